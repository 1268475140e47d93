'use strict'

// A binary min-heap on (priority, insertion order), for priorityQueue.
function before (a, b) {
  return a.priority !== b.priority ? a.priority < b.priority : a.order < b.order
}

class Heap {
  constructor () {
    this.heap = []
    this.pushCount = Number.MIN_SAFE_INTEGER
  }

  get length () {
    return this.heap.length
  }

  push (item) {
    item.order = ++this.pushCount
    this.heap.push(item)
    this.up(this.heap.length - 1)
  }

  shift () {
    const heap = this.heap
    if (heap.length === 0) return undefined
    const top = heap[0]
    const last = heap.pop()
    if (heap.length > 0) {
      heap[0] = last
      this.down(0)
    }
    return top
  }

  up (index) {
    const heap = this.heap
    while (index > 0) {
      const parent = (index - 1) >> 1
      if (!before(heap[index], heap[parent])) break;
      [heap[index], heap[parent]] = [heap[parent], heap[index]]
      index = parent
    }
  }

  // As async: an item stays above its first child only when it comes before
  // it, which differs from "the child does not come before it" for
  // priorities that compare neither way (null and 0, NaN).
  down (index) {
    const heap = this.heap
    for (;;) {
      let child = 2 * index + 1
      if (child >= heap.length) return
      if (child + 1 < heap.length && before(heap[child + 1], heap[child])) child++
      if (before(heap[index], heap[child])) return;
      [heap[index], heap[child]] = [heap[child], heap[index]]
      index = child
    }
  }

  // As async: the items kept close up in place, then the heap is rebuilt from
  // the last parent down, so [...q] lists them in the order async does.
  remove (testFn) {
    const heap = this.heap
    let kept = 0
    for (let i = 0; i < heap.length; i++) {
      if (!testFn(heap[i])) heap[kept++] = heap[i]
    }
    heap.length = kept
    for (let i = (kept >> 1) - 1; i >= 0; i--) this.down(i)
    return this
  }

  empty () {
    this.heap = []
    return this
  }

  *[Symbol.iterator] () {
    for (const item of this.heap.slice()) yield item.data
  }
}

module.exports = { Heap }
