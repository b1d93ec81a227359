from alba_action.cli import main

raise SystemExit(main())
