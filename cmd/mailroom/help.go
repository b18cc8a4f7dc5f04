package main

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// groupUsage is the usage of a command group, for "mailroom GROUP --help"
// (a subcommand's --help, and that of a command without subcommands such
// as trace, is its flag set's, with its flags).
func groupUsage(group string) (string, bool) {
	u, ok := map[string]string{
		"domain": domainUsage, "mailbox": mailboxUsage, "grant": grantUsage, "app-password": appPasswordUsage,
		"oauth-client": oauthClientUsage, "connector": connectorUsage, "queue": queueUsage, "admin": adminUsage,
	}[group]
	return u, ok
}

// helpFor returns the usage to print when args ask a command group for
// help before naming a subcommand ("mailroom domain --help", "mailroom
// admin user -h", "mailroom help domain"); false when they do not.
func helpFor(args []string) (string, bool) {
	switch {
	case len(args) >= 2 && isHelp(args[1]):
		return groupUsage(args[0])
	case len(args) >= 3 && isHelp(args[2]) && (args[0] == "admin" && (args[1] == "user" || args[1] == "token")):
		return adminUsage, true
	case len(args) >= 3 && isHelp(args[2]) && args[0] == "mailbox" && args[1] == "alias":
		return aliasUsage, true
	}
	return "", false
}
