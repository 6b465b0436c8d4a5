/**
 * The part of s3rver (an independent S3 server, used only by tests and the benchmark as a
 * second S3 implementation) that Sluice calls; the package ships no types.
 */
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';

  /** Options of an s3rver instance. */
  interface S3rverOptions {
    /** Address to bind (default localhost). */
    readonly address?: string;
    /** Port; 0 picks a free one. */
    readonly port?: number;
    /** Folder that holds the buckets. */
    readonly directory?: string;
    /** No request log. */
    readonly silent?: boolean;
  }

  /** An S3 server over a folder. */
  export default class S3rver {
    constructor(options?: S3rverOptions);
    /** Starts listening; resolves with the bound address. */
    run(): Promise<AddressInfo>;
    /** Stops listening. */
    close(): Promise<void>;
  }
}
