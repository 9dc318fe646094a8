/**
 * The verdict of a tessera health check.
 *
 * @module
 */

/** Result of `checkTesseraHealth`. */
export type TesseraHealth =
  | { readonly kind: "healthy" }
  | { readonly kind: "needs_replication"; readonly deficit: number }
  | { readonly kind: "corrupt_local"; readonly fragmentIndex: number };
