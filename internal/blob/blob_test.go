package blob

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestFS_CommitOpenRemove(t *testing.T) {
	dir := t.TempDir()
	fs, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := fs.Create()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "Subject: hi\r\n\r\nbody\r\n"); err != nil {
		t.Fatal(err)
	}
	if w.Size() != 21 {
		t.Fatalf("size = %d", w.Size())
	}
	if err := w.Commit("m1"); err != nil {
		t.Fatal(err)
	}
	r, err := fs.Open("m1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "Subject: hi\r\n\r\nbody\r\n" {
		t.Fatalf("read back %q", b)
	}
	if err := fs.Remove("m1"); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Open("m1"); err == nil {
		t.Fatal("blob still there after Remove")
	}
}

func TestFS_AbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	fs, _ := Open(dir)
	w, _ := fs.Create()
	io.WriteString(w, "half a message")
	w.Abort()
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Fatalf("abort left %d files", len(ents))
	}
}

func TestOpen_RemovesCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, tmpPrefix+"dead"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, "kept"), []byte("x"), 0o600)
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "kept" {
		t.Fatalf("after Open: %v", ents)
	}
}

func TestValidKey(t *testing.T) {
	for _, k := range []string{"", ".tmp-x", "../x", "a/b", `a\b`} {
		if validKey(k) == nil {
			t.Errorf("validKey(%q) accepted", k)
		}
	}
	if err := validKey("0123abc.d"); err != nil {
		t.Errorf("validKey rejected a good key: %v", err)
	}
}

func TestFS_ShardsBySubdirectory(t *testing.T) {
	dir := t.TempDir()
	fs, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	for _, key := range []string{"1a20ea3889984a80.eml", "1a20ea3889984a81.eml", "1a20eb0000000000.eml", "short"} {
		w, _ := fs.Create()
		io.WriteString(w, key)
		if err := w.Commit(key); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(Path(dir, key)); err != nil || string(b) != key {
			t.Fatalf("%s: %q, %v", key, b, err)
		}
	}
	subs, _ := os.ReadDir(dir)
	var names []string
	for _, e := range subs {
		names = append(names, e.Name())
	}
	if len(names) != 3 || names[0] != "1a20ea38" || names[1] != "1a20eb00" || names[2] != "_" {
		t.Fatalf("subdirectories %v", names)
	}
	if n, _ := Count(dir); n != 4 {
		t.Fatalf("Count = %d", n)
	}
	if files, dirs := fs.Syncs(); files != 4 || dirs < 1 || dirs > 4 {
		t.Fatalf("syncs: %d files, %d dirs", files, dirs)
	}
}
