package groupcommit

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
)

func TestBatcher_SharesCommits(t *testing.T) {
	var mu sync.Mutex
	var committed []int
	gate, entered := make(chan struct{}), make(chan struct{})
	first := true
	b := New(64, func(items []int) error {
		if first { // hold the first commit so the others queue up behind it
			first = false
			close(entered)
			<-gate
		}
		mu.Lock()
		committed = append(committed, items...)
		mu.Unlock()
		return nil
	})
	defer b.Close()
	var wg sync.WaitGroup
	do := func(i int) {
		defer wg.Done()
		if err := b.Do(context.Background(), i); err != nil {
			t.Error(err)
		}
	}
	wg.Add(1)
	go do(0)
	<-entered
	for i := 1; i < 50; i++ {
		wg.Add(1)
		go do(i)
	}
	for len(b.reqs) < 49 { // all queued behind the running commit
		runtime.Gosched()
	}
	close(gate)
	wg.Wait()
	batches, items := b.Stats()
	if items != 50 || len(committed) != 50 {
		t.Fatalf("committed %d items (%d recorded)", items, len(committed))
	}
	if batches != 2 {
		t.Errorf("%d batches, want 2: the first alone, the 49 queued behind it together", batches)
	}
	t.Logf("%d batches for 50 items", batches)
}

func TestBatcher_IsolatesABadItem(t *testing.T) {
	bad := errors.New("bad item")
	b := New(8, func(items []int) error {
		for _, it := range items {
			if it == 3 {
				return bad
			}
		}
		return nil
	})
	defer b.Close()
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = b.Do(context.Background(), i) }()
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 3) != errors.Is(err, bad) {
			t.Errorf("item %d: %v", i, err)
		}
	}
}

func TestBatcher_Closed(t *testing.T) {
	b := New(4, func([]int) error { return nil })
	b.Close()
	if err := b.Do(context.Background(), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Do after Close = %v", err)
	}
}
