"""Pure Block Kit builders for the Slack surface, by what they show: a task (`tasks`), lists
(`lists`), App Home (`home`) and the modals (`modals`)."""
