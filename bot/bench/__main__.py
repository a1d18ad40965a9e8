from bot.bench.sweep import main

main()
