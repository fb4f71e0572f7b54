package practices

import (
	"io"
	"sync"
)

// readAhead reads r in a goroutine, up to depth blocks of size bytes ahead of the consumer. An
// upload is received from the client and sent to the store by the same request; the store's client
// fills a part, then sends it, and while it sends nobody reads from the client, whose bytes then wait
// in TCP buffers. Reading ahead keeps the client's stream flowing during the store's sends, so the
// two overlap, for depth×size bytes of memory. Close stops the goroutine (once its pending read
// returns; the server closes a request's body when the handler ends).
func readAhead(r io.Reader, size, depth int) io.ReadCloser {
	ra := &aheadReader{blocks: make(chan aheadBlock, depth), done: make(chan struct{}), free: make(chan *[]byte, depth+1)}
	// A fixed set of blocks, recycled: no garbage for the collector to let the heap grow by.
	for range depth + 1 {
		b := make([]byte, size)
		ra.free <- &b
	}
	go func() {
		defer close(ra.blocks)
		for {
			var buf *[]byte
			select {
			case buf = <-ra.free:
			case <-ra.done:
				return
			}
			n, err := io.ReadFull(r, *buf)
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			select {
			case ra.blocks <- aheadBlock{buf: buf, n: n, err: err}:
			case <-ra.done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return ra
}

type aheadBlock struct {
	buf *[]byte
	n   int
	err error
}

type aheadReader struct {
	blocks chan aheadBlock
	done   chan struct{}
	once   sync.Once
	free   chan *[]byte
	cur    aheadBlock
	off    int
	err    error
}

func (a *aheadReader) Read(p []byte) (int, error) {
	for a.off >= a.cur.n {
		if a.err != nil {
			return 0, a.err
		}
		if a.cur.buf != nil {
			a.free <- a.cur.buf
			a.cur.buf = nil
		}
		b, ok := <-a.blocks
		if !ok {
			return 0, io.EOF
		}
		a.cur, a.off, a.err = b, 0, b.err
	}
	n := copy(p, (*a.cur.buf)[a.off:a.cur.n])
	a.off += n
	return n, nil
}

func (a *aheadReader) Close() error {
	a.once.Do(func() { close(a.done) })
	return nil
}
