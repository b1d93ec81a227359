from alba_action.cli import console

raise SystemExit(console())
