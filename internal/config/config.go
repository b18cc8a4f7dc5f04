// Package config owns mailroom's configuration: the TOML schema, the default
// of every key, and validation. A missing file is not an error: every key has
// a default, so `mailroom serve` runs with none.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Config is the whole configuration file. Each field documents its TOML key
// and its default.
type Config struct {
	// DataDir is where the database, message bodies and the generated
	// certificate live. Relative paths are relative to the config file's
	// folder (or the working directory when there is no file). Default "data".
	DataDir string `toml:"data_dir"`
	// Hostname is announced in the greeting, EHLO and Received headers.
	// Default: the OS hostname.
	Hostname string `toml:"hostname"`

	Submission Submission `toml:"submission"`
	TLS        TLS        `toml:"tls"`
	HTTP       HTTP       `toml:"http"`
	Log        Log        `toml:"log"`
	Delivery   Delivery   `toml:"delivery"`

	// dir is the folder relative paths are resolved against.
	dir string
}

// Submission configures the SMTP submission listeners.
type Submission struct {
	// Listen is the STARTTLS submission address. Default ":587".
	Listen string `toml:"listen"`
	// ListenTLS is the implicit-TLS submission address; "" turns it off.
	// Default ":465".
	ListenTLS string `toml:"listen_tls"`
	// MaxMessageBytes caps a message's size; larger ones get 552 5.3.4.
	// Default 36700160 (35 MiB, as Exchange Online).
	MaxMessageBytes int64 `toml:"max_message_bytes"`
	// ShutdownGrace bounds how long SIGTERM waits for in-flight
	// transactions before closing their connections. Default "10s".
	ShutdownGrace Duration `toml:"shutdown_grace"`
}

// TLS configures the server certificate.
type TLS struct {
	// CertFile and KeyFile are PEM files. Both empty (the default): a
	// self-signed certificate is made in data_dir on first start.
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
}

// HTTP configures the admin console and API listener.
type HTTP struct {
	// Listen is the admin console/API address; "" turns it off.
	// Default "127.0.0.1:8080".
	Listen string `toml:"listen"`
}

// Log configures the process log (not the message trace).
type Log struct {
	// Level is one of debug, info, warn, error. Default "info".
	Level string `toml:"level"`
	// Format is "text" or "json". Default "text".
	Format string `toml:"format"`
}

// Default returns the configuration used when a key is absent.
func Default() Config {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return Config{
		DataDir:  "data",
		Hostname: host,
		Submission: Submission{
			Listen:          ":587",
			ListenTLS:       ":465",
			MaxMessageBytes: 36700160,
			ShutdownGrace:   Duration(10e9),
		},
		HTTP:     HTTP{Listen: "127.0.0.1:8080"},
		Log:      Log{Level: "info", Format: "text"},
		Delivery: DefaultDelivery(),
	}
}

// Load reads the TOML file at path over the defaults. An empty path means no
// file: the defaults, relative to the working directory. A path that does
// not exist is an error (a typo should not silently run on defaults).
func Load(path string) (Config, error) {
	c := Default()
	if path == "" {
		wd, err := os.Getwd()
		if err != nil {
			return c, fmt.Errorf("working directory: %w", err)
		}
		c.dir = wd
		return c, c.Validate()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return c, fmt.Errorf("config file %s does not exist (omit --config to run on defaults)", path)
		}
		return c, fmt.Errorf("read config: %w", err)
	}
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var sm *toml.StrictMissingError
		if errors.As(err, &sm) {
			return c, fmt.Errorf("config %s: unknown key:\n%s", path, sm.String())
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return c, fmt.Errorf("config %s:%d:%d: %v", path, row, col, de)
		}
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return c, fmt.Errorf("config path: %w", err)
	}
	c.dir = filepath.Dir(abs)
	return c, c.Validate()
}

// FieldError names the key whose value is invalid.
type FieldError struct {
	Key    string
	Value  any
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("config key %s = %v: %s", e.Key, e.Value, e.Reason)
}

// Validate checks every key's value.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.DataDir) == "" {
		return &FieldError{"data_dir", `""`, "must name a folder"}
	}
	if c.Hostname == "" {
		return &FieldError{"hostname", `""`, "must be set (the OS hostname is the default)"}
	}
	for key, addr := range map[string]string{
		"submission.listen": c.Submission.Listen, "submission.listen_tls": c.Submission.ListenTLS, "http.listen": c.HTTP.Listen,
	} {
		if addr == "" && key != "submission.listen" {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return &FieldError{key, fmt.Sprintf("%q", addr), "want host:port, e.g. \":587\""}
		}
	}
	if c.Submission.MaxMessageBytes <= 0 {
		return &FieldError{"submission.max_message_bytes", c.Submission.MaxMessageBytes, "must be positive"}
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return &FieldError{"tls.cert_file", c.TLS.CertFile, "set both tls.cert_file and tls.key_file, or neither for a self-signed certificate"}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return &FieldError{"log.level", c.Log.Level, "want debug, info, warn or error"}
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return &FieldError{"log.format", c.Log.Format, "want text or json"}
	}
	return c.Delivery.validate()
}

// Path resolves p against the config file's folder, unless p is absolute.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// DataPath is the absolute data directory.
func (c *Config) DataPath() string { return c.Path(c.DataDir) }

// SetDir sets the folder relative paths resolve against (used by quickstart
// and tests that build a Config in code).
func (c *Config) SetDir(dir string) { c.dir = dir }
