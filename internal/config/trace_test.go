package config

import (
	"errors"
	"testing"
	"time"
)

func TestLoad_Trace(t *testing.T) {
	c, err := Load("")
	if err != nil || c.Trace.Retention.Std() != 720*time.Hour {
		t.Fatalf("default trace.retention: %v %v", c.Trace.Retention.Std(), err)
	}
	c, err = Load(write(t, "[trace]\nretention = \"48h\"\n"))
	if err != nil || c.Trace.Retention.Std() != 48*time.Hour {
		t.Fatalf("trace.retention = 48h: %v %v", c.Trace.Retention.Std(), err)
	}
	_, err = Load(write(t, "[trace]\nretention = \"1m\"\n"))
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Key != "trace.retention" {
		t.Fatalf("trace.retention = 1m: %v", err)
	}
}
