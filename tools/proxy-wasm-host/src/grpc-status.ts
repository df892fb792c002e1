// How Envoy answers a gRPC request locally: the gRPC status for an HTTP code, and grpc-message encoding.

/** Envoy Grpc::Utility::httpToGrpcStatus. */
export function httpToGrpcStatus(http: number): number {
  switch (http) {
    case 400: return 13; // Internal
    case 401: return 16; // Unauthenticated
    case 403: return 7;  // PermissionDenied
    case 404: return 12; // Unimplemented
    case 429: case 502: case 503: case 504: return 14; // Unavailable
    default: return 2;   // Unknown
  }
}

/** grpc-message encoding (gRPC spec / Envoy PercentEncoding): bytes outside ' '..'~' and '%' become %XX. */
export function grpcPercentEncode(b: Uint8Array): string {
  let out = '';
  for (const c of b) out += c < 0x20 || c > 0x7e || c === 0x25 ? '%' + c.toString(16).toUpperCase().padStart(2, '0') : String.fromCharCode(c);
  return out;
}
