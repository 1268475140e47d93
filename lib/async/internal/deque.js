'use strict'

// A growable ring buffer: O(1) push, unshift and shift, for queue's tasks.
class Deque {
  constructor () {
    this.buffer = new Array(16)
    this.mask = 15
    this.head = 0
    this.length = 0
  }

  grow () {
    const old = this.buffer
    const size = old.length
    const next = new Array(size * 2)
    for (let i = 0; i < this.length; i++) next[i] = old[(this.head + i) & this.mask]
    this.buffer = next
    this.mask = size * 2 - 1
    this.head = 0
  }

  push (item) {
    if (this.length === this.buffer.length) this.grow()
    this.buffer[(this.head + this.length) & this.mask] = item
    this.length++
  }

  unshift (item) {
    if (this.length === this.buffer.length) this.grow()
    this.head = (this.head - 1) & this.mask
    this.buffer[this.head] = item
    this.length++
  }

  shift () {
    if (this.length === 0) return undefined
    const item = this.buffer[this.head]
    this.buffer[this.head] = undefined
    this.head = (this.head + 1) & this.mask
    this.length--
    return item
  }

  toArray () {
    const out = new Array(this.length)
    for (let i = 0; i < this.length; i++) out[i] = this.buffer[(this.head + i) & this.mask]
    return out
  }

  // Drops every item for which testFn(item) is truthy; the rest keep their order.
  remove (testFn) {
    const items = this.toArray()
    this.empty()
    for (const item of items) {
      if (!testFn(item)) this.push(item)
    }
    return this
  }

  empty () {
    this.buffer = new Array(16)
    this.mask = 15
    this.head = 0
    this.length = 0
    return this
  }

  *[Symbol.iterator] () {
    for (const item of this.toArray()) yield item.data
  }
}

module.exports = { Deque }
