"""The running bot: the Bolt app's factory, the HTTP endpoint and /healthz, the scheduler."""
