"""Run the command line as `python -m wizard`."""

from wizard.cli import main

raise SystemExit(main())
