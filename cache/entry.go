package cache

import "unsafe"

// An entry is one heap block: this header, then the key, then the value.
// Headers link the entries of a shard into its two S3-FIFO queues (see
// cache.go). The links point into the shard's heap, never into Go memory,
// so the garbage collector has nothing to follow; they are unsafe.Pointer
// rather than uintptr so that no conversion back is needed.
type entry struct {
	newer, older unsafe.Pointer // *entry; nil at the ends of its queue
	hash         uint64
	expire       int64 // clock() at which the entry expires; 0: never
	vlen         uint32
	klen         uint16 // MaxKeyLen fits
	freq         uint8  // reads since insertion or the last pass of eviction, at most maxFreq
	queue        uint8  // inSmall or inMain
}

const entryHeader = int(unsafe.Sizeof(entry{}))

func (e *entry) key() []byte {
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(e), entryHeader)), e.klen)
}

func (e *entry) value() []byte {
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(e), entryHeader+int(e.klen))), e.vlen)
}

func (e *entry) newerEntry() *entry { return (*entry)(e.newer) }
func (e *entry) olderEntry() *entry { return (*entry)(e.older) }
