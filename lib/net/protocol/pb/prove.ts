import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface WireProveRequest {
  tesseraId: string
  nonce: Uint8Array<ArrayBuffer>
  indices: number[]
}

export namespace WireProveRequest {
  let _codec: Codec<WireProveRequest>

  export const codec = (): Codec<WireProveRequest> => {
    if (_codec == null) {
      _codec = message<WireProveRequest>((obj, w, opts = {}) => {
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

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          tesseraId: '',
          nonce: uint8ArrayAlloc(0),
          indices: []
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

  export interface WireProveRequestTesseraIdFieldEvent {
    field: '$.tesseraId'
    value: string
  }

  export interface WireProveRequestNonceFieldEvent {
    field: '$.nonce'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WireProveRequestIndicesFieldEvent {
    field: '$.indices[]'
    index: number
    value: number
  }

  export function encode (obj: Partial<WireProveRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WireProveRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireProveRequest>): WireProveRequest {
    return decodeMessage(buf, WireProveRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireProveRequest>): Generator<WireProveRequestTesseraIdFieldEvent | WireProveRequestNonceFieldEvent | WireProveRequestIndicesFieldEvent> {
    return streamMessage(buf, WireProveRequest.codec(), opts)
  }
}

export interface WireGroupProof {
  group: number
  data: Uint8Array<ArrayBuffer>
  siblings: Uint8Array<ArrayBuffer>
}

export namespace WireGroupProof {
  let _codec: Codec<WireGroupProof>

  export const codec = (): Codec<WireGroupProof> => {
    if (_codec == null) {
      _codec = message<WireGroupProof>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.group != null && obj.group !== 0)) {
          w.uint32(8)
          w.uint32(obj.group)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.data)
        }

        if ((obj.siblings != null && obj.siblings.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.siblings)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          group: 0,
          data: uint8ArrayAlloc(0),
          siblings: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.group = reader.uint32()
              break
            }
            case 2: {
              obj.data = reader.bytes()
              break
            }
            case 3: {
              obj.siblings = reader.bytes()
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
                field: `${prefix}.group`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.data`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.siblings`,
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

  export interface WireGroupProofGroupFieldEvent {
    field: '$.group'
    value: number
  }

  export interface WireGroupProofDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WireGroupProofSiblingsFieldEvent {
    field: '$.siblings'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<WireGroupProof>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WireGroupProof.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireGroupProof>): WireGroupProof {
    return decodeMessage(buf, WireGroupProof.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireGroupProof>): Generator<WireGroupProofGroupFieldEvent | WireGroupProofDataFieldEvent | WireGroupProofSiblingsFieldEvent> {
    return streamMessage(buf, WireGroupProof.codec(), opts)
  }
}

export interface WireShardProofs {
  index: number
  checksum: string
  size: number
  groups: WireGroupProof[]
}

export namespace WireShardProofs {
  let _codec: Codec<WireShardProofs>

  export const codec = (): Codec<WireShardProofs> => {
    if (_codec == null) {
      _codec = message<WireShardProofs>((obj, w, opts = {}) => {
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

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(24)
          w.int64Number(obj.size)
        }

        if (obj.groups != null && obj.groups.length > 0) {
          for (const value of obj.groups) {
            w.uint32(34)
            WireGroupProof.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          index: 0,
          checksum: '',
          size: 0,
          groups: []
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
              obj.size = reader.int64Number()
              break
            }
            case 4: {
              if (opts.limits?.groups != null && obj.groups.length === opts.limits.groups) {
                throw new MaxLengthError('Decode error - repeated field "groups" had too many elements')
              }

              obj.groups.push(WireGroupProof.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.groups$
              }))
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
          groups: 0
        }

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
                field: `${prefix}.size`,
                value: reader.int64Number()
              }
              break
            }
            case 4: {
              if (opts.limits?.groups != null && obj.groups === opts.limits.groups) {
                throw new MaxLengthError('Streaming decode error - repeated field "groups" had too many elements')
              }

              for (const evt of WireGroupProof.codec().stream(reader, reader.uint32(), `${prefix}.groups[]`, {
                limits: opts.limits?.groups$
              })) {
                yield {
                  ...evt,
                  index: obj.groups
                }
              }

              obj.groups++

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

  export interface WireShardProofsIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface WireShardProofsChecksumFieldEvent {
    field: '$.checksum'
    value: string
  }

  export interface WireShardProofsSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export interface WireShardProofsGroupsGroupFieldEvent {
    field: '$.groups[].group'
    value: number
    index: number
  }

  export interface WireShardProofsGroupsDataFieldEvent {
    field: '$.groups[].data'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface WireShardProofsGroupsSiblingsFieldEvent {
    field: '$.groups[].siblings'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export function encode (obj: Partial<WireShardProofs>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WireShardProofs.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireShardProofs>): WireShardProofs {
    return decodeMessage(buf, WireShardProofs.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireShardProofs>): Generator<WireShardProofsIndexFieldEvent | WireShardProofsChecksumFieldEvent | WireShardProofsSizeFieldEvent | WireShardProofsGroupsGroupFieldEvent | WireShardProofsGroupsDataFieldEvent | WireShardProofsGroupsSiblingsFieldEvent> {
    return streamMessage(buf, WireShardProofs.codec(), opts)
  }
}

export interface WireProofAnswer {
  tesseraId: string
  holder: string
  nonce: Uint8Array<ArrayBuffer>
  shards: WireShardProofs[]
  timestamp: number
  signature: Uint8Array<ArrayBuffer>
}

export namespace WireProofAnswer {
  let _codec: Codec<WireProofAnswer>

  export const codec = (): Codec<WireProofAnswer> => {
    if (_codec == null) {
      _codec = message<WireProofAnswer>((obj, w, opts = {}) => {
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

        if (obj.shards != null && obj.shards.length > 0) {
          for (const value of obj.shards) {
            w.uint32(34)
            WireShardProofs.codec().encode(value, w)
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

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          tesseraId: '',
          holder: '',
          nonce: uint8ArrayAlloc(0),
          shards: [],
          timestamp: 0,
          signature: uint8ArrayAlloc(0)
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
              if (opts.limits?.shards != null && obj.shards.length === opts.limits.shards) {
                throw new MaxLengthError('Decode error - repeated field "shards" had too many elements')
              }

              obj.shards.push(WireShardProofs.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.shards$
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
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          shards: 0
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
              if (opts.limits?.shards != null && obj.shards === opts.limits.shards) {
                throw new MaxLengthError('Streaming decode error - repeated field "shards" had too many elements')
              }

              for (const evt of WireShardProofs.codec().stream(reader, reader.uint32(), `${prefix}.shards[]`, {
                limits: opts.limits?.shards$
              })) {
                yield {
                  ...evt,
                  index: obj.shards
                }
              }

              obj.shards++

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

  export interface WireProofAnswerTesseraIdFieldEvent {
    field: '$.tesseraId'
    value: string
  }

  export interface WireProofAnswerHolderFieldEvent {
    field: '$.holder'
    value: string
  }

  export interface WireProofAnswerNonceFieldEvent {
    field: '$.nonce'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WireProofAnswerShardsIndexFieldEvent {
    field: '$.shards[].index'
    value: number
    index: number
  }

  export interface WireProofAnswerShardsChecksumFieldEvent {
    field: '$.shards[].checksum'
    value: string
    index: number
  }

  export interface WireProofAnswerShardsSizeFieldEvent {
    field: '$.shards[].size'
    value: number
    index: number
  }

  export interface WireProofAnswerShardsGroupsGroupFieldEvent {
    field: '$.shards[].groups[].group'
    value: number
    index: number
  }

  export interface WireProofAnswerShardsGroupsDataFieldEvent {
    field: '$.shards[].groups[].data'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface WireProofAnswerShardsGroupsSiblingsFieldEvent {
    field: '$.shards[].groups[].siblings'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface WireProofAnswerTimestampFieldEvent {
    field: '$.timestamp'
    value: number
  }

  export interface WireProofAnswerSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<WireProofAnswer>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WireProofAnswer.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireProofAnswer>): WireProofAnswer {
    return decodeMessage(buf, WireProofAnswer.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireProofAnswer>): Generator<WireProofAnswerTesseraIdFieldEvent | WireProofAnswerHolderFieldEvent | WireProofAnswerNonceFieldEvent | WireProofAnswerShardsIndexFieldEvent | WireProofAnswerShardsChecksumFieldEvent | WireProofAnswerShardsSizeFieldEvent | WireProofAnswerShardsGroupsGroupFieldEvent | WireProofAnswerShardsGroupsDataFieldEvent | WireProofAnswerShardsGroupsSiblingsFieldEvent | WireProofAnswerTimestampFieldEvent | WireProofAnswerSignatureFieldEvent> {
    return streamMessage(buf, WireProofAnswer.codec(), opts)
  }
}

export interface WireProveResponse {
  answer?: WireProofAnswer
  errorCode: string
  errorMessage: string
}

export namespace WireProveResponse {
  let _codec: Codec<WireProveResponse>

  export const codec = (): Codec<WireProveResponse> => {
    if (_codec == null) {
      _codec = message<WireProveResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.answer != null) {
          w.uint32(10)
          WireProofAnswer.codec().encode(obj.answer, w)
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
              obj.answer = WireProofAnswer.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.answer
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
              yield * WireProofAnswer.codec().stream(reader, reader.uint32(), `${prefix}.answer`, {
                limits: opts.limits?.answer
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

  export interface WireProveResponseAnswerTesseraIdFieldEvent {
    field: '$.answer.tesseraId'
    value: string
  }

  export interface WireProveResponseAnswerHolderFieldEvent {
    field: '$.answer.holder'
    value: string
  }

  export interface WireProveResponseAnswerNonceFieldEvent {
    field: '$.answer.nonce'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WireProveResponseAnswerShardsIndexFieldEvent {
    field: '$.answer.shards[].index'
    value: number
    index: number
  }

  export interface WireProveResponseAnswerShardsChecksumFieldEvent {
    field: '$.answer.shards[].checksum'
    value: string
    index: number
  }

  export interface WireProveResponseAnswerShardsSizeFieldEvent {
    field: '$.answer.shards[].size'
    value: number
    index: number
  }

  export interface WireProveResponseAnswerShardsGroupsGroupFieldEvent {
    field: '$.answer.shards[].groups[].group'
    value: number
    index: number
  }

  export interface WireProveResponseAnswerShardsGroupsDataFieldEvent {
    field: '$.answer.shards[].groups[].data'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface WireProveResponseAnswerShardsGroupsSiblingsFieldEvent {
    field: '$.answer.shards[].groups[].siblings'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface WireProveResponseAnswerTimestampFieldEvent {
    field: '$.answer.timestamp'
    value: number
  }

  export interface WireProveResponseAnswerSignatureFieldEvent {
    field: '$.answer.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WireProveResponseErrorCodeFieldEvent {
    field: '$.errorCode'
    value: string
  }

  export interface WireProveResponseErrorMessageFieldEvent {
    field: '$.errorMessage'
    value: string
  }

  export function encode (obj: Partial<WireProveResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WireProveResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireProveResponse>): WireProveResponse {
    return decodeMessage(buf, WireProveResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireProveResponse>): Generator<WireProveResponseAnswerTesseraIdFieldEvent | WireProveResponseAnswerHolderFieldEvent | WireProveResponseAnswerNonceFieldEvent | WireProveResponseAnswerShardsIndexFieldEvent | WireProveResponseAnswerShardsChecksumFieldEvent | WireProveResponseAnswerShardsSizeFieldEvent | WireProveResponseAnswerShardsGroupsGroupFieldEvent | WireProveResponseAnswerShardsGroupsDataFieldEvent | WireProveResponseAnswerShardsGroupsSiblingsFieldEvent | WireProveResponseAnswerTimestampFieldEvent | WireProveResponseAnswerSignatureFieldEvent | WireProveResponseErrorCodeFieldEvent | WireProveResponseErrorMessageFieldEvent> {
    return streamMessage(buf, WireProveResponse.codec(), opts)
  }
}

export interface WireVerifiedFetchHeader {
  found: boolean
  size: number
  checksum: string
  outboard: Uint8Array<ArrayBuffer>
  errorCode: string
  errorMessage: string
}

export namespace WireVerifiedFetchHeader {
  let _codec: Codec<WireVerifiedFetchHeader>

  export const codec = (): Codec<WireVerifiedFetchHeader> => {
    if (_codec == null) {
      _codec = message<WireVerifiedFetchHeader>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.found != null && obj.found !== false)) {
          w.uint32(8)
          w.bool(obj.found)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(16)
          w.int64Number(obj.size)
        }

        if ((obj.checksum != null && obj.checksum !== '')) {
          w.uint32(26)
          w.string(obj.checksum)
        }

        if ((obj.outboard != null && obj.outboard.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.outboard)
        }

        if ((obj.errorCode != null && obj.errorCode !== '')) {
          w.uint32(42)
          w.string(obj.errorCode)
        }

        if ((obj.errorMessage != null && obj.errorMessage !== '')) {
          w.uint32(50)
          w.string(obj.errorMessage)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          found: false,
          size: 0,
          checksum: '',
          outboard: uint8ArrayAlloc(0),
          errorCode: '',
          errorMessage: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.found = reader.bool()
              break
            }
            case 2: {
              obj.size = reader.int64Number()
              break
            }
            case 3: {
              obj.checksum = reader.string()
              break
            }
            case 4: {
              obj.outboard = reader.bytes()
              break
            }
            case 5: {
              obj.errorCode = reader.string()
              break
            }
            case 6: {
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
              yield {
                field: `${prefix}.found`,
                value: reader.bool()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.size`,
                value: reader.int64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.checksum`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.outboard`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.errorCode`,
                value: reader.string()
              }
              break
            }
            case 6: {
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

  export interface WireVerifiedFetchHeaderFoundFieldEvent {
    field: '$.found'
    value: boolean
  }

  export interface WireVerifiedFetchHeaderSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export interface WireVerifiedFetchHeaderChecksumFieldEvent {
    field: '$.checksum'
    value: string
  }

  export interface WireVerifiedFetchHeaderOutboardFieldEvent {
    field: '$.outboard'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WireVerifiedFetchHeaderErrorCodeFieldEvent {
    field: '$.errorCode'
    value: string
  }

  export interface WireVerifiedFetchHeaderErrorMessageFieldEvent {
    field: '$.errorMessage'
    value: string
  }

  export function encode (obj: Partial<WireVerifiedFetchHeader>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WireVerifiedFetchHeader.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireVerifiedFetchHeader>): WireVerifiedFetchHeader {
    return decodeMessage(buf, WireVerifiedFetchHeader.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireVerifiedFetchHeader>): Generator<WireVerifiedFetchHeaderFoundFieldEvent | WireVerifiedFetchHeaderSizeFieldEvent | WireVerifiedFetchHeaderChecksumFieldEvent | WireVerifiedFetchHeaderOutboardFieldEvent | WireVerifiedFetchHeaderErrorCodeFieldEvent | WireVerifiedFetchHeaderErrorMessageFieldEvent> {
    return streamMessage(buf, WireVerifiedFetchHeader.codec(), opts)
  }
}

export interface WireFetchPiece {
  data: Uint8Array<ArrayBuffer>
}

export namespace WireFetchPiece {
  let _codec: Codec<WireFetchPiece>

  export const codec = (): Codec<WireFetchPiece> => {
    if (_codec == null) {
      _codec = message<WireFetchPiece>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.data)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          data: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.data = reader.bytes()
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
                field: `${prefix}.data`,
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

  export interface WireFetchPieceDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<WireFetchPiece>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WireFetchPiece.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireFetchPiece>): WireFetchPiece {
    return decodeMessage(buf, WireFetchPiece.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireFetchPiece>): Generator<WireFetchPieceDataFieldEvent> {
    return streamMessage(buf, WireFetchPiece.codec(), opts)
  }
}
