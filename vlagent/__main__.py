from vlagent.cli.main import main

raise SystemExit(main())
