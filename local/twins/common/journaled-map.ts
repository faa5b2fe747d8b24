const ABSENT: unique symbol = Symbol('absent');

/**
 * A Map that can undo a write: between `begin()` and `end()` it keeps a copy of each entry as it was
 * before the write first touched it (read, iterated, set or deleted: a record handed out may be changed
 * in place), and `rollback()` puts those back. A write then costs what it touches, not a copy of the
 * whole collection: the twins' stores grow to tens of thousands of records in a chaos run.
 *
 * Values must be structured-cloneable (the stores hold plain records).
 */
export class JournaledMap<K, V> extends Map<K, V> {
  private journal: Map<K, V | typeof ABSENT> | undefined;
  /** The keys' order when the write first deleted one, so a rollback restores the order too. */
  private order: K[] | undefined;

  begin(): void {
    this.journal = new Map();
    this.order = undefined;
  }

  /** Keeps what the write did. */
  end(): void {
    this.journal = undefined;
    this.order = undefined;
  }

  /** Undoes everything since `begin()`, then ends the write. */
  rollback(): void {
    const journal = this.journal;
    if (!journal) return;
    this.journal = undefined;
    if (this.order) {
      const current = new Map(super.entries());
      super.clear();
      for (const key of this.order) {
        const before = journal.has(key) ? journal.get(key) : current.get(key);
        if (before !== ABSENT) super.set(key, before as V);
      }
    } else {
      for (const [key, before] of journal) {
        if (before === ABSENT) super.delete(key);
        else super.set(key, before);
      }
    }
    this.order = undefined;
  }

  override get(key: K): V | undefined {
    this.note(key);
    return super.get(key);
  }

  override set(key: K, value: V): this {
    this.note(key);
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    if (this.journal && !this.order && super.has(key)) this.order = [...super.keys()];
    this.note(key);
    return super.delete(key);
  }

  override clear(): void {
    if (this.journal) {
      this.order ??= [...super.keys()];
      for (const key of super.keys()) this.note(key);
    }
    super.clear();
  }

  override *entries(): MapIterator<[K, V]> {
    for (const [key, value] of super.entries()) {
      this.note(key);
      yield [key, value];
    }
  }

  override *values(): MapIterator<V> {
    for (const [key, value] of super.entries()) {
      this.note(key);
      yield value;
    }
  }

  override [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  override forEach(callback: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }

  private note(key: K): void {
    if (!this.journal || this.journal.has(key)) return;
    this.journal.set(key, super.has(key) ? structuredClone(super.get(key) as V) : ABSENT);
  }
}
