from kata.cli import main

main(prog_name="kata")
