/**
 * The lowest number seen for each text key, held in typed arrays: the keys' UTF-8 bytes in one growing buffer and a
 * hash table of indexes into it. A streaming check that must remember one number per finding subject across 1.46M
 * findings holds about 60 bytes per key here (keys are compared byte for byte, so the answer is exact); a `Map` of
 * strings to numbers held about 200 and, with the garbage of the records streamed past it, drove the evaluation's
 * peak RSS past a gigabyte.
 */
export class LowestByKey {
  private bytes = Buffer.allocUnsafe(4096);
  private used = 0;
  private offsets = new Uint32Array(16);
  private lengths = new Uint32Array(16);
  private hashes = new Uint32Array(16);
  private values = new Float64Array(16);
  /** Entry index + 1 per slot, 0 for an empty slot; a power of two at least twice the entries, probed linearly. */
  private slots = new Uint32Array(32);
  private scratch = Buffer.allocUnsafe(256);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Keeps `value` for `key` when it is lower than the one held, or when none is. */
  keepLowest(key: string, value: number): void {
    const length = this.encode(key);
    const hash = fnv1a(this.scratch, length);
    const slot = this.find(hash, length);
    const entry = this.slots[slot]!;
    if (entry !== 0) {
      if (value < this.values[entry - 1]!) this.values[entry - 1] = value;
      return;
    }
    this.add(slot, hash, length, value);
  }

  get(key: string): number | undefined {
    const length = this.encode(key);
    const entry = this.slots[this.find(fnv1a(this.scratch, length), length)]!;
    return entry === 0 ? undefined : this.values[entry - 1];
  }

  private encode(key: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (key.length * 3 > this.scratch.length) this.scratch = Buffer.allocUnsafe(key.length * 3);
    return this.scratch.write(key, 0, 'utf8');
  }

  /** The slot holding the key in `scratch`, or the empty slot where it belongs. */
  private find(hash: number, length: number): number {
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot]!;
      if (entry === 0) return slot;
      const index = entry - 1;
      if (this.hashes[index] !== hash || this.lengths[index] !== length) continue;
      const offset = this.offsets[index]!;
      if (this.scratch.compare(this.bytes, offset, offset + length, 0, length) === 0) return slot;
    }
  }

  private add(slot: number, hash: number, length: number, value: number): void {
    // Offsets are 32-bit: 4 GiB of keys is far past any scan (1.46M findings' keys take about 50 MB).
    if (this.used + length > 0xffff_ffff) throw new RangeError('LowestByKey holds at most 4 GiB of keys');
    if (this.used + length > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + length));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    this.scratch.copy(this.bytes, this.used, 0, length);
    if (this.count === this.values.length) this.growEntries();
    const index = this.count++;
    this.offsets[index] = this.used;
    this.lengths[index] = length;
    this.hashes[index] = hash;
    this.values[index] = value;
    this.used += length;
    this.slots[slot] = index + 1;
    if (this.count * 2 > this.slots.length) this.growSlots();
  }

  private growEntries(): void {
    const capacity = this.values.length * 2;
    const grow = <T extends Float64Array | Uint32Array>(from: T, to: T): T => {
      to.set(from);
      return to;
    };
    this.offsets = grow(this.offsets, new Uint32Array(capacity));
    this.lengths = grow(this.lengths, new Uint32Array(capacity));
    this.hashes = grow(this.hashes, new Uint32Array(capacity));
    this.values = grow(this.values, new Float64Array(capacity));
  }

  private growSlots(): void {
    const slots = new Uint32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let index = 0; index < this.count; index++) {
      let slot = this.hashes[index]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = index + 1;
    }
    this.slots = slots;
  }
}

/** 32-bit FNV-1a over the first `length` bytes. */
function fnv1a(bytes: Buffer, length: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash >>> 0;
}
