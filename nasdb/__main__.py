from nasdb.cli import main

main()
