"""The `xxgk` subcommands, one module per group; flows/cli.py builds the one parser."""
