package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Where the commands look for the configuration file, in this order:
// the --config flag, the environment variable EnvVar, LocalName in the
// working directory, then SystemPath.
const (
	EnvVar     = "MAILROOM_CONFIG"
	LocalName  = "mailroom.toml"
	SystemPath = "/etc/mailroom/mailroom.toml"
)

// Search says where to look for the configuration file.
type Search struct {
	Flag string // the --config value; "" when not given
	Env  string // the value of $MAILROOM_CONFIG; "" when not set
	Dir  string // the working directory, where LocalName is looked for
	// System is the last file looked at (SystemPath); "" skips it.
	System string
}

// Found is the configuration file a Search chose.
type Found struct {
	// Path is the file; "" when none was found.
	Path string
	// From says what named it: "--config", "$MAILROOM_CONFIG", "./mailroom.toml"
	// or the system path.
	From string
}

// Locate returns the first configuration file of s that is given or
// exists. A file named by the flag or the environment must exist; the
// local and system files are skipped when absent. No file found is not an
// error: Found.Path is "".
func Locate(s Search) (Found, error) {
	if s.Flag != "" {
		return Found{Path: s.Flag, From: "--config"}, nil
	}
	if s.Env != "" {
		if _, err := os.Stat(s.Env); err != nil {
			return Found{}, fmt.Errorf("$%s=%s: %w (unset it, or point it at the configuration file)", EnvVar, s.Env, err)
		}
		return Found{Path: s.Env, From: "$" + EnvVar}, nil
	}
	for _, c := range []struct{ path, from string }{
		{filepath.Join(s.Dir, LocalName), "./" + LocalName},
		{s.System, s.System},
	} {
		if c.path == "" || c.from == "" {
			continue
		}
		_, err := os.Stat(c.path)
		if err == nil {
			return Found{Path: c.path, From: c.from}, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return Found{}, fmt.Errorf("look for the configuration: %w", err)
		}
	}
	return Found{}, nil
}

// Looked lists where a Search that found nothing looked, for the message
// that says so.
func (s Search) Looked() string {
	places := []string{"--config (not given)", "$" + EnvVar + " (not set)", filepath.Join(s.Dir, LocalName) + " (no such file)"}
	if s.System != "" {
		places = append(places, s.System+" (no such file)")
	}
	return strings.Join(places, ", ")
}
