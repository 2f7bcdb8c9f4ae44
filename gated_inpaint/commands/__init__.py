"""The `gated-inpaint` command: one module per subcommand (each with `NAME`, `HELP`,
`DESCRIPTION`, `add_arguments` and `run`), the flags they share, and the file helpers of the
commands that process folders. Nothing in the library imports this package."""
