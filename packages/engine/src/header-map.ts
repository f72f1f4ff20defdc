/** Header values as Node.js keeps them: lower-case names, repeated fields as arrays. */
export type NodeHeaders = Record<string, string | string[] | number | undefined>;

/**
 * A `Headers` over a plain object of lower-case names. The WHATWG `Headers` validates and
 * normalizes every name and value and copies Node's header object up front; a call that only
 * asks for two request headers pays for all of them. This one wraps Node's object as is and
 * copies it only when written to. HTTP/2 pseudo-headers (`:path`) are never listed.
 */
export class HeaderMap {
  private fields: NodeHeaders;
  private shared: boolean;

  /** @param source Node's request headers (read, never written: the first write copies them). */
  constructor(source?: Readonly<NodeHeaders>) {
    this.fields = (source as NodeHeaders | undefined) ?? {};
    this.shared = source !== undefined;
  }

  /** This map typed as the `Headers` Connect's APIs expect. */
  asHeaders(): Headers {
    return this as unknown as Headers;
  }

  get(name: string): string | null {
    const value = this.fields[name.toLowerCase()];
    if (value === undefined) return null;
    if (typeof value === "string") return value;
    return Array.isArray(value) ? value.join(", ") : String(value);
  }

  has(name: string): boolean {
    return this.fields[name.toLowerCase()] !== undefined;
  }

  set(name: string, value: string): void {
    this.writable()[name.toLowerCase()] = String(value);
  }

  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const fields = this.writable();
    const existing = fields[key];
    if (existing === undefined) fields[key] = String(value);
    else if (key === "set-cookie")
      fields[key] = [...(Array.isArray(existing) ? existing : [String(existing)]), String(value)];
    else fields[key] = `${this.get(key)}, ${value}`;
  }

  delete(name: string): void {
    const key = name.toLowerCase();
    if (this.fields[key] !== undefined) delete this.writable()[key];
  }

  getSetCookie(): string[] {
    const value = this.fields["set-cookie"];
    if (value === undefined) return [];
    return Array.isArray(value) ? [...value] : [String(value)];
  }

  forEach(
    callback: (value: string, key: string, parent: Headers) => void,
    thisArg?: unknown,
  ): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this.asHeaders());
  }

  *entries(): IterableIterator<[string, string]> {
    for (const key of Object.keys(this.fields).sort()) {
      if (key.charCodeAt(0) === 58 /* ":" */) continue;
      const value = this.get(key);
      if (value !== null) yield [key, value];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  /** Whether nothing is set (pseudo-headers aside). */
  get empty(): boolean {
    for (const key in this.fields) {
      if (key.charCodeAt(0) !== 58 && this.fields[key] !== undefined) return false;
    }
    return true;
  }

  /** Copies every field into a Node header object (`setHeader` / `writeHead` shape). */
  copyTo(target: NodeHeaders, prefix = ""): void {
    for (const key in this.fields) {
      if (key.charCodeAt(0) === 58) continue;
      const value = this.fields[key];
      if (value !== undefined) target[prefix + key] = value;
    }
  }

  private writable(): NodeHeaders {
    if (this.shared) {
      const copy: NodeHeaders = {};
      for (const key in this.fields) {
        if (key.charCodeAt(0) !== 58) copy[key] = this.fields[key];
      }
      this.fields = copy;
      this.shared = false;
    }
    return this.fields;
  }
}
