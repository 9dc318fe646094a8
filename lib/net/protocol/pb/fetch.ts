import { decodeMessage, encodeMessage, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface WireFetchRequest {
  tesseraId: string
  index: number
}

export namespace WireFetchRequest {
  let _codec: Codec<WireFetchRequest>

  export const codec = (): Codec<WireFetchRequest> => {
    if (_codec == null) {
      _codec = message<WireFetchRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.tesseraId != null && obj.tesseraId !== '')) {
          w.uint32(10)
          w.string(obj.tesseraId)
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(16)
          w.int32(obj.index)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          tesseraId: '',
          index: 0
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
              obj.index = reader.int32()
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
                field: `${prefix}.tesseraId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.index`,
                value: reader.int32()
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

  export interface WireFetchRequestTesseraIdFieldEvent {
    field: '$.tesseraId'
    value: string
  }

  export interface WireFetchRequestIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export function encode (obj: Partial<WireFetchRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WireFetchRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireFetchRequest>): WireFetchRequest {
    return decodeMessage(buf, WireFetchRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireFetchRequest>): Generator<WireFetchRequestTesseraIdFieldEvent | WireFetchRequestIndexFieldEvent> {
    return streamMessage(buf, WireFetchRequest.codec(), opts)
  }
}

export interface WireFetchResponse {
  found: boolean
  data: Uint8Array<ArrayBuffer>
  errorCode: string
  errorMessage: string
}

export namespace WireFetchResponse {
  let _codec: Codec<WireFetchResponse>

  export const codec = (): Codec<WireFetchResponse> => {
    if (_codec == null) {
      _codec = message<WireFetchResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.found != null && obj.found !== false)) {
          w.uint32(8)
          w.bool(obj.found)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.data)
        }

        if ((obj.errorCode != null && obj.errorCode !== '')) {
          w.uint32(26)
          w.string(obj.errorCode)
        }

        if ((obj.errorMessage != null && obj.errorMessage !== '')) {
          w.uint32(34)
          w.string(obj.errorMessage)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          found: false,
          data: uint8ArrayAlloc(0),
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
              obj.data = reader.bytes()
              break
            }
            case 3: {
              obj.errorCode = reader.string()
              break
            }
            case 4: {
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
                field: `${prefix}.data`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.errorCode`,
                value: reader.string()
              }
              break
            }
            case 4: {
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

  export interface WireFetchResponseFoundFieldEvent {
    field: '$.found'
    value: boolean
  }

  export interface WireFetchResponseDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WireFetchResponseErrorCodeFieldEvent {
    field: '$.errorCode'
    value: string
  }

  export interface WireFetchResponseErrorMessageFieldEvent {
    field: '$.errorMessage'
    value: string
  }

  export function encode (obj: Partial<WireFetchResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WireFetchResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireFetchResponse>): WireFetchResponse {
    return decodeMessage(buf, WireFetchResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireFetchResponse>): Generator<WireFetchResponseFoundFieldEvent | WireFetchResponseDataFieldEvent | WireFetchResponseErrorCodeFieldEvent | WireFetchResponseErrorMessageFieldEvent> {
    return streamMessage(buf, WireFetchResponse.codec(), opts)
  }
}
