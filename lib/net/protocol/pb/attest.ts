import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface WireAttestRequest {
  tesseraId: string
  nonce: Uint8Array<ArrayBuffer>
  indices: number[]
  listing: boolean
}

export namespace WireAttestRequest {
  let _codec: Codec<WireAttestRequest>

  export const codec = (): Codec<WireAttestRequest> => {
    if (_codec == null) {
      _codec = message<WireAttestRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.tesseraId != null && obj.tesseraId !== '')) {
          w.uint32(10)
          w.string(obj.tesseraId)
        }

        if ((obj.nonce != null && obj.nonce.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.nonce)
        }

        if (obj.indices != null && obj.indices.length > 0) {
          for (const value of obj.indices) {
            w.uint32(24)
            w.int32(value)
          }
        }

        if ((obj.listing != null && obj.listing !== false)) {
          w.uint32(32)
          w.bool(obj.listing)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          tesseraId: '',
          nonce: uint8ArrayAlloc(0),
          indices: [],
          listing: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.tesseraId = reader.string()
              break
            }
            case 2: {
              obj.nonce = reader.bytes()
              break
            }
            case 3: {
              if (opts.limits?.indices != null && obj.indices.length === opts.limits.indices) {
                throw new MaxLengthError('Decode error - repeated field "indices" had too many elements')
              }

              obj.indices.push(reader.int32())
              break
            }
            case 4: {
              obj.listing = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          indices: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.tesseraId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.nonce`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              if (opts.limits?.indices != null && obj.indices === opts.limits.indices) {
                throw new MaxLengthError('Streaming decode error - repeated field "indices" had too many elements')
              }

              yield {
                field: `${prefix}.indices[]`,
                index: obj.indices,
                value: reader.int32()
              }

              obj.indices++

              break
            }
            case 4: {
              yield {
                field: `${prefix}.listing`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface WireAttestRequestTesseraIdFieldEvent {
    field: '$.tesseraId'
    value: string
  }

  export interface WireAttestRequestNonceFieldEvent {
    field: '$.nonce'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WireAttestRequestIndicesFieldEvent {
    field: '$.indices[]'
    index: number
    value: number
  }

  export interface WireAttestRequestListingFieldEvent {
    field: '$.listing'
    value: boolean
  }

  export function encode (obj: Partial<WireAttestRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WireAttestRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireAttestRequest>): WireAttestRequest {
    return decodeMessage(buf, WireAttestRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireAttestRequest>): Generator<WireAttestRequestTesseraIdFieldEvent | WireAttestRequestNonceFieldEvent | WireAttestRequestIndicesFieldEvent | WireAttestRequestListingFieldEvent> {
    return streamMessage(buf, WireAttestRequest.codec(), opts)
  }
}

export interface WireAttestationEntry {
  index: number
  checksum: string
  proof: string
}

export namespace WireAttestationEntry {
  let _codec: Codec<WireAttestationEntry>

  export const codec = (): Codec<WireAttestationEntry> => {
    if (_codec == null) {
      _codec = message<WireAttestationEntry>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(8)
          w.int32(obj.index)
        }

        if ((obj.checksum != null && obj.checksum !== '')) {
          w.uint32(18)
          w.string(obj.checksum)
        }

        if ((obj.proof != null && obj.proof !== '')) {
          w.uint32(26)
          w.string(obj.proof)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          index: 0,
          checksum: '',
          proof: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.index = reader.int32()
              break
            }
            case 2: {
              obj.checksum = reader.string()
              break
            }
            case 3: {
              obj.proof = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.index`,
                value: reader.int32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.checksum`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.proof`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface WireAttestationEntryIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface WireAttestationEntryChecksumFieldEvent {
    field: '$.checksum'
    value: string
  }

  export interface WireAttestationEntryProofFieldEvent {
    field: '$.proof'
    value: string
  }

  export function encode (obj: Partial<WireAttestationEntry>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WireAttestationEntry.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireAttestationEntry>): WireAttestationEntry {
    return decodeMessage(buf, WireAttestationEntry.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireAttestationEntry>): Generator<WireAttestationEntryIndexFieldEvent | WireAttestationEntryChecksumFieldEvent | WireAttestationEntryProofFieldEvent> {
    return streamMessage(buf, WireAttestationEntry.codec(), opts)
  }
}

export interface WireAttestation {
  tesseraId: string
  holder: string
  nonce: Uint8Array<ArrayBuffer>
  entries: WireAttestationEntry[]
  timestamp: number
  signature: Uint8Array<ArrayBuffer>
  manifest: Uint8Array<ArrayBuffer>
  manifestSignature: Uint8Array<ArrayBuffer>
}

export namespace WireAttestation {
  let _codec: Codec<WireAttestation>

  export const codec = (): Codec<WireAttestation> => {
    if (_codec == null) {
      _codec = message<WireAttestation>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.tesseraId != null && obj.tesseraId !== '')) {
          w.uint32(10)
          w.string(obj.tesseraId)
        }

        if ((obj.holder != null && obj.holder !== '')) {
          w.uint32(18)
          w.string(obj.holder)
        }

        if ((obj.nonce != null && obj.nonce.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.nonce)
        }

        if (obj.entries != null && obj.entries.length > 0) {
          for (const value of obj.entries) {
            w.uint32(34)
            WireAttestationEntry.codec().encode(value, w)
          }
        }

        if ((obj.timestamp != null && obj.timestamp !== 0)) {
          w.uint32(40)
          w.int64Number(obj.timestamp)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.signature)
        }

        if ((obj.manifest != null && obj.manifest.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.manifest)
        }

        if ((obj.manifestSignature != null && obj.manifestSignature.byteLength > 0)) {
          w.uint32(66)
          w.bytes(obj.manifestSignature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          tesseraId: '',
          holder: '',
          nonce: uint8ArrayAlloc(0),
          entries: [],
          timestamp: 0,
          signature: uint8ArrayAlloc(0),
          manifest: uint8ArrayAlloc(0),
          manifestSignature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.tesseraId = reader.string()
              break
            }
            case 2: {
              obj.holder = reader.string()
              break
            }
            case 3: {
              obj.nonce = reader.bytes()
              break
            }
            case 4: {
              if (opts.limits?.entries != null && obj.entries.length === opts.limits.entries) {
                throw new MaxLengthError('Decode error - repeated field "entries" had too many elements')
              }

              obj.entries.push(WireAttestationEntry.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.entries$
              }))
              break
            }
            case 5: {
              obj.timestamp = reader.int64Number()
              break
            }
            case 6: {
              obj.signature = reader.bytes()
              break
            }
            case 7: {
              obj.manifest = reader.bytes()
              break
            }
            case 8: {
              obj.manifestSignature = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          entries: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.tesseraId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.holder`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.nonce`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              if (opts.limits?.entries != null && obj.entries === opts.limits.entries) {
                throw new MaxLengthError('Streaming decode error - repeated field "entries" had too many elements')
              }

              for (const evt of WireAttestationEntry.codec().stream(reader, reader.uint32(), `${prefix}.entries[]`, {
                limits: opts.limits?.entries$
              })) {
                yield {
                  ...evt,
                  index: obj.entries
                }
              }

              obj.entries++

              break
            }
            case 5: {
              yield {
                field: `${prefix}.timestamp`,
                value: reader.int64Number()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.signature`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.manifest`,
                value: reader.bytes()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.manifestSignature`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface WireAttestationTesseraIdFieldEvent {
    field: '$.tesseraId'
    value: string
  }

  export interface WireAttestationHolderFieldEvent {
    field: '$.holder'
    value: string
  }

  export interface WireAttestationNonceFieldEvent {
    field: '$.nonce'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WireAttestationEntriesIndexFieldEvent {
    field: '$.entries[].index'
    value: number
    index: number
  }

  export interface WireAttestationEntriesChecksumFieldEvent {
    field: '$.entries[].checksum'
    value: string
    index: number
  }

  export interface WireAttestationEntriesProofFieldEvent {
    field: '$.entries[].proof'
    value: string
    index: number
  }

  export interface WireAttestationTimestampFieldEvent {
    field: '$.timestamp'
    value: number
  }

  export interface WireAttestationSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WireAttestationManifestFieldEvent {
    field: '$.manifest'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WireAttestationManifestSignatureFieldEvent {
    field: '$.manifestSignature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<WireAttestation>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WireAttestation.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireAttestation>): WireAttestation {
    return decodeMessage(buf, WireAttestation.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireAttestation>): Generator<WireAttestationTesseraIdFieldEvent | WireAttestationHolderFieldEvent | WireAttestationNonceFieldEvent | WireAttestationEntriesIndexFieldEvent | WireAttestationEntriesChecksumFieldEvent | WireAttestationEntriesProofFieldEvent | WireAttestationTimestampFieldEvent | WireAttestationSignatureFieldEvent | WireAttestationManifestFieldEvent | WireAttestationManifestSignatureFieldEvent> {
    return streamMessage(buf, WireAttestation.codec(), opts)
  }
}

export interface WireAttestResponse {
  attestation?: WireAttestation
  errorCode: string
  errorMessage: string
}

export namespace WireAttestResponse {
  let _codec: Codec<WireAttestResponse>

  export const codec = (): Codec<WireAttestResponse> => {
    if (_codec == null) {
      _codec = message<WireAttestResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.attestation != null) {
          w.uint32(10)
          WireAttestation.codec().encode(obj.attestation, w)
        }

        if ((obj.errorCode != null && obj.errorCode !== '')) {
          w.uint32(18)
          w.string(obj.errorCode)
        }

        if ((obj.errorMessage != null && obj.errorMessage !== '')) {
          w.uint32(26)
          w.string(obj.errorMessage)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          errorCode: '',
          errorMessage: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.attestation = WireAttestation.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.attestation
              })
              break
            }
            case 2: {
              obj.errorCode = reader.string()
              break
            }
            case 3: {
              obj.errorMessage = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * WireAttestation.codec().stream(reader, reader.uint32(), `${prefix}.attestation`, {
                limits: opts.limits?.attestation
              })

              break
            }
            case 2: {
              yield {
                field: `${prefix}.errorCode`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.errorMessage`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface WireAttestResponseAttestationTesseraIdFieldEvent {
    field: '$.attestation.tesseraId'
    value: string
  }

  export interface WireAttestResponseAttestationHolderFieldEvent {
    field: '$.attestation.holder'
    value: string
  }

  export interface WireAttestResponseAttestationNonceFieldEvent {
    field: '$.attestation.nonce'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WireAttestResponseAttestationEntriesIndexFieldEvent {
    field: '$.attestation.entries[].index'
    value: number
    index: number
  }

  export interface WireAttestResponseAttestationEntriesChecksumFieldEvent {
    field: '$.attestation.entries[].checksum'
    value: string
    index: number
  }

  export interface WireAttestResponseAttestationEntriesProofFieldEvent {
    field: '$.attestation.entries[].proof'
    value: string
    index: number
  }

  export interface WireAttestResponseAttestationTimestampFieldEvent {
    field: '$.attestation.timestamp'
    value: number
  }

  export interface WireAttestResponseAttestationSignatureFieldEvent {
    field: '$.attestation.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WireAttestResponseAttestationManifestFieldEvent {
    field: '$.attestation.manifest'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WireAttestResponseAttestationManifestSignatureFieldEvent {
    field: '$.attestation.manifestSignature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WireAttestResponseErrorCodeFieldEvent {
    field: '$.errorCode'
    value: string
  }

  export interface WireAttestResponseErrorMessageFieldEvent {
    field: '$.errorMessage'
    value: string
  }

  export function encode (obj: Partial<WireAttestResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WireAttestResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireAttestResponse>): WireAttestResponse {
    return decodeMessage(buf, WireAttestResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireAttestResponse>): Generator<WireAttestResponseAttestationTesseraIdFieldEvent | WireAttestResponseAttestationHolderFieldEvent | WireAttestResponseAttestationNonceFieldEvent | WireAttestResponseAttestationEntriesIndexFieldEvent | WireAttestResponseAttestationEntriesChecksumFieldEvent | WireAttestResponseAttestationEntriesProofFieldEvent | WireAttestResponseAttestationTimestampFieldEvent | WireAttestResponseAttestationSignatureFieldEvent | WireAttestResponseAttestationManifestFieldEvent | WireAttestResponseAttestationManifestSignatureFieldEvent | WireAttestResponseErrorCodeFieldEvent | WireAttestResponseErrorMessageFieldEvent> {
    return streamMessage(buf, WireAttestResponse.codec(), opts)
  }
}
