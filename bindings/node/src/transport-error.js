/** Why a request got no HTTP response; an HTTP error status is a response, never one of these. */
export class TransportError extends Error {
  /** @param {'unreachable'|'timed-out'|'broken'} kind */
  constructor(kind, detail = '') {
    super(detail === '' ? kind : `${kind}: ${detail}`);
    this.name = 'TransportError';
    this.kind = kind;
    this.detail = detail;
  }
}
