/**
 * A memo of at most `size` values by string key, oldest out first: for parses that a run
 * repeats on the same input (repo sign sees the same few certificates in thousands of
 * signatures). Only for immutable values.
 */
export class BoundedMemo<V> {
  private readonly values = new Map<string, V>();

  constructor(private readonly size: number) {}

  get(key: string, compute: () => V): V {
    const known = this.values.get(key);
    if (known !== undefined) return known;
    const value = compute();
    if (this.values.size >= this.size) this.values.delete(this.values.keys().next().value as string);
    this.values.set(key, value);
    return value;
  }
}
