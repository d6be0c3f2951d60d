from konoha_gen.cli import main

main()
