from keras_gans.cli import main

raise SystemExit(main())
