/** Typed errors of the package upload store; the HTTP layer maps them (409 carries `Upload-Offset`). */
import { AppError, ConflictError } from '../../errors.js';

/** The client's offset is not where the upload stands: it must ask (HEAD) and resume from `offset`. */
export class UploadOffsetMismatchError extends ConflictError {
  readonly offset: number;
  constructor(id: string, given: number, offset: number) {
    super(`Upload ${id} is at offset ${offset}, not ${given}: resume from ${offset}`, 'upload_offset_mismatch', { offset });
    this.offset = offset;
  }
}

/** Another request is writing to the same upload right now. */
export class UploadBusyError extends ConflictError {
  constructor(id: string) {
    super(`Upload ${id} is receiving another chunk; retry once it finished`, 'upload_busy');
  }
}

export class UploadCompleteError extends ConflictError {
  constructor(id: string) {
    super(`Upload ${id} is complete; it takes no more bytes`, 'upload_complete');
  }
}

export class UploadIncompleteError extends ConflictError {
  constructor(id: string, offset: number, size: number) {
    super(`Upload ${id} has ${offset} of its ${size} bytes; send the rest before completing it`, 'upload_incomplete', { offset, size });
  }
}

/** The chunk would take the upload past its declared size; nothing of it was kept. */
export class UploadTooLargeError extends AppError {
  constructor(id: string, size: number) {
    super('upload_too_large', 413, `Upload ${id} was declared as ${size} bytes; this chunk goes past that and was discarded`, { size });
  }
}

/** The bytes do not hash to the declared sha256; the upload was discarded. */
export class PackageChecksumMismatchError extends AppError {
  constructor(id: string, declared: string, actual: string) {
    super('package_checksum_mismatch', 422, `Upload ${id} has sha256 ${actual}, not the declared ${declared}; it was discarded: start a new upload`, { declared, actual });
  }
}
