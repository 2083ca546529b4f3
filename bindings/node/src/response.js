/** One SCIM response: status, headers in order (a name may repeat), body text. */
export class Response {
  /**
   * @param {number} status
   * @param {Array<[string, string]>} headers
   * @param {string} body
   */
  constructor(status, headers, body) {
    this.status = status;
    this.headers = headers;
    this.body = body;
  }

  /** The first value of a header, by name without regard to case, or null. */
  header(name) {
    const lower = name.toLowerCase();
    return this.headers.find(([k]) => k.toLowerCase() === lower)?.[1] ?? null;
  }

  /** The body as JSON; null when empty. */
  json() {
    return this.body === '' ? null : JSON.parse(this.body);
  }
}
