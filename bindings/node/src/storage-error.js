/** An expected storage failure, which the engine turns into the matching SCIM error response. */
export class StorageError extends Error {
  /**
   * @param {'not-found'|'conflict'|'precondition-failed'|'unsupported'|'unavailable'} kind
   * @param {string} detail
   */
  constructor(kind, detail = '') {
    super(detail === '' ? kind : `${kind}: ${detail}`);
    this.name = 'StorageError';
    this.kind = kind;
    this.detail = detail;
  }

  /** 404 */
  static notFound() {
    return new StorageError('not-found');
  }

  /** 409; `column` is the unique column whose value is taken. */
  static conflict(column) {
    return new StorageError('conflict', column);
  }

  /** 412 */
  static preconditionFailed() {
    return new StorageError('precondition-failed');
  }

  /** The storage does not offer this operation (501 for /Me). */
  static unsupported() {
    return new StorageError('unsupported');
  }

  /** 503, a temporary failure; the detail is logged, not shown to clients. */
  static unavailable(detail) {
    return new StorageError('unavailable', detail);
  }
}
