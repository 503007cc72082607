from wikibot.cli import main

raise SystemExit(main())
