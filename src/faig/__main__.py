from faig.cli import main

raise SystemExit(main())
