import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface WireFragmentPlan {
  size: number
  tier: string
  dataShards: number
  parityShards: number
  shardCount: number
  shardSize: number
}

export namespace WireFragmentPlan {
  let _codec: Codec<WireFragmentPlan>

  export const codec = (): Codec<WireFragmentPlan> => {
    if (_codec == null) {
      _codec = message<WireFragmentPlan>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(8)
          w.int64Number(obj.size)
        }

        if ((obj.tier != null && obj.tier !== '')) {
          w.uint32(18)
          w.string(obj.tier)
        }

        if ((obj.dataShards != null && obj.dataShards !== 0)) {
          w.uint32(24)
          w.int32(obj.dataShards)
        }

        if ((obj.parityShards != null && obj.parityShards !== 0)) {
          w.uint32(32)
          w.int32(obj.parityShards)
        }

        if ((obj.shardCount != null && obj.shardCount !== 0)) {
          w.uint32(40)
          w.int32(obj.shardCount)
        }

        if ((obj.shardSize != null && obj.shardSize !== 0)) {
          w.uint32(48)
          w.int64Number(obj.shardSize)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          size: 0,
          tier: '',
          dataShards: 0,
          parityShards: 0,
          shardCount: 0,
          shardSize: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.size = reader.int64Number()
              break
            }
            case 2: {
              obj.tier = reader.string()
              break
            }
            case 3: {
              obj.dataShards = reader.int32()
              break
            }
            case 4: {
              obj.parityShards = reader.int32()
              break
            }
            case 5: {
              obj.shardCount = reader.int32()
              break
            }
            case 6: {
              obj.shardSize = reader.int64Number()
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
                field: `${prefix}.size`,
                value: reader.int64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.tier`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.dataShards`,
                value: reader.int32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.parityShards`,
                value: reader.int32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.shardCount`,
                value: reader.int32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.shardSize`,
                value: reader.int64Number()
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

  export interface WireFragmentPlanSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export interface WireFragmentPlanTierFieldEvent {
    field: '$.tier'
    value: string
  }

  export interface WireFragmentPlanDataShardsFieldEvent {
    field: '$.dataShards'
    value: number
  }

  export interface WireFragmentPlanParityShardsFieldEvent {
    field: '$.parityShards'
    value: number
  }

  export interface WireFragmentPlanShardCountFieldEvent {
    field: '$.shardCount'
    value: number
  }

  export interface WireFragmentPlanShardSizeFieldEvent {
    field: '$.shardSize'
    value: number
  }

  export function encode (obj: Partial<WireFragmentPlan>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WireFragmentPlan.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireFragmentPlan>): WireFragmentPlan {
    return decodeMessage(buf, WireFragmentPlan.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireFragmentPlan>): Generator<WireFragmentPlanSizeFieldEvent | WireFragmentPlanTierFieldEvent | WireFragmentPlanDataShardsFieldEvent | WireFragmentPlanParityShardsFieldEvent | WireFragmentPlanShardCountFieldEvent | WireFragmentPlanShardSizeFieldEvent> {
    return streamMessage(buf, WireFragmentPlan.codec(), opts)
  }
}

export interface WireFragmentId {
  tesseraId: string
  index: number
  shardCount: number
  checksum: string
}

export namespace WireFragmentId {
  let _codec: Codec<WireFragmentId>

  export const codec = (): Codec<WireFragmentId> => {
    if (_codec == null) {
      _codec = message<WireFragmentId>((obj, w, opts = {}) => {
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

        if ((obj.shardCount != null && obj.shardCount !== 0)) {
          w.uint32(24)
          w.int32(obj.shardCount)
        }

        if ((obj.checksum != null && obj.checksum !== '')) {
          w.uint32(34)
          w.string(obj.checksum)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          tesseraId: '',
          index: 0,
          shardCount: 0,
          checksum: ''
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
            case 3: {
              obj.shardCount = reader.int32()
              break
            }
            case 4: {
              obj.checksum = reader.string()
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
            case 3: {
              yield {
                field: `${prefix}.shardCount`,
                value: reader.int32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.checksum`,
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

  export interface WireFragmentIdTesseraIdFieldEvent {
    field: '$.tesseraId'
    value: string
  }

  export interface WireFragmentIdIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface WireFragmentIdShardCountFieldEvent {
    field: '$.shardCount'
    value: number
  }

  export interface WireFragmentIdChecksumFieldEvent {
    field: '$.checksum'
    value: string
  }

  export function encode (obj: Partial<WireFragmentId>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WireFragmentId.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireFragmentId>): WireFragmentId {
    return decodeMessage(buf, WireFragmentId.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireFragmentId>): Generator<WireFragmentIdTesseraIdFieldEvent | WireFragmentIdIndexFieldEvent | WireFragmentIdShardCountFieldEvent | WireFragmentIdChecksumFieldEvent> {
    return streamMessage(buf, WireFragmentId.codec(), opts)
  }
}

export interface WireFragmentEnvelope {
  fragment?: WireFragmentId
  plan?: WireFragmentPlan
  originalSize: number
  fragmentSize: number
  data: Uint8Array<ArrayBuffer>
  manifest: Uint8Array<ArrayBuffer>
  manifestSignature: Uint8Array<ArrayBuffer>
}

export namespace WireFragmentEnvelope {
  let _codec: Codec<WireFragmentEnvelope>

  export const codec = (): Codec<WireFragmentEnvelope> => {
    if (_codec == null) {
      _codec = message<WireFragmentEnvelope>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.fragment != null) {
          w.uint32(10)
          WireFragmentId.codec().encode(obj.fragment, w)
        }

        if (obj.plan != null) {
          w.uint32(18)
          WireFragmentPlan.codec().encode(obj.plan, w)
        }

        if ((obj.originalSize != null && obj.originalSize !== 0)) {
          w.uint32(24)
          w.int64Number(obj.originalSize)
        }

        if ((obj.fragmentSize != null && obj.fragmentSize !== 0)) {
          w.uint32(32)
          w.int64Number(obj.fragmentSize)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.data)
        }

        if ((obj.manifest != null && obj.manifest.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.manifest)
        }

        if ((obj.manifestSignature != null && obj.manifestSignature.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.manifestSignature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          originalSize: 0,
          fragmentSize: 0,
          data: uint8ArrayAlloc(0),
          manifest: uint8ArrayAlloc(0),
          manifestSignature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.fragment = WireFragmentId.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.fragment
              })
              break
            }
            case 2: {
              obj.plan = WireFragmentPlan.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.plan
              })
              break
            }
            case 3: {
              obj.originalSize = reader.int64Number()
              break
            }
            case 4: {
              obj.fragmentSize = reader.int64Number()
              break
            }
            case 5: {
              obj.data = reader.bytes()
              break
            }
            case 6: {
              obj.manifest = reader.bytes()
              break
            }
            case 7: {
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
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * WireFragmentId.codec().stream(reader, reader.uint32(), `${prefix}.fragment`, {
                limits: opts.limits?.fragment
              })

              break
            }
            case 2: {
              yield * WireFragmentPlan.codec().stream(reader, reader.uint32(), `${prefix}.plan`, {
                limits: opts.limits?.plan
              })

              break
            }
            case 3: {
              yield {
                field: `${prefix}.originalSize`,
                value: reader.int64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.fragmentSize`,
                value: reader.int64Number()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.data`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.manifest`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
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

  export interface WireFragmentEnvelopeFragmentTesseraIdFieldEvent {
    field: '$.fragment.tesseraId'
    value: string
  }

  export interface WireFragmentEnvelopeFragmentIndexFieldEvent {
    field: '$.fragment.index'
    value: number
  }

  export interface WireFragmentEnvelopeFragmentShardCountFieldEvent {
    field: '$.fragment.shardCount'
    value: number
  }

  export interface WireFragmentEnvelopeFragmentChecksumFieldEvent {
    field: '$.fragment.checksum'
    value: string
  }

  export interface WireFragmentEnvelopePlanSizeFieldEvent {
    field: '$.plan.size'
    value: number
  }

  export interface WireFragmentEnvelopePlanTierFieldEvent {
    field: '$.plan.tier'
    value: string
  }

  export interface WireFragmentEnvelopePlanDataShardsFieldEvent {
    field: '$.plan.dataShards'
    value: number
  }

  export interface WireFragmentEnvelopePlanParityShardsFieldEvent {
    field: '$.plan.parityShards'
    value: number
  }

  export interface WireFragmentEnvelopePlanShardCountFieldEvent {
    field: '$.plan.shardCount'
    value: number
  }

  export interface WireFragmentEnvelopePlanShardSizeFieldEvent {
    field: '$.plan.shardSize'
    value: number
  }

  export interface WireFragmentEnvelopeOriginalSizeFieldEvent {
    field: '$.originalSize'
    value: number
  }

  export interface WireFragmentEnvelopeFragmentSizeFieldEvent {
    field: '$.fragmentSize'
    value: number
  }

  export interface WireFragmentEnvelopeDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WireFragmentEnvelopeManifestFieldEvent {
    field: '$.manifest'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WireFragmentEnvelopeManifestSignatureFieldEvent {
    field: '$.manifestSignature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<WireFragmentEnvelope>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WireFragmentEnvelope.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireFragmentEnvelope>): WireFragmentEnvelope {
    return decodeMessage(buf, WireFragmentEnvelope.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireFragmentEnvelope>): Generator<WireFragmentEnvelopeFragmentTesseraIdFieldEvent | WireFragmentEnvelopeFragmentIndexFieldEvent | WireFragmentEnvelopeFragmentShardCountFieldEvent | WireFragmentEnvelopeFragmentChecksumFieldEvent | WireFragmentEnvelopePlanSizeFieldEvent | WireFragmentEnvelopePlanTierFieldEvent | WireFragmentEnvelopePlanDataShardsFieldEvent | WireFragmentEnvelopePlanParityShardsFieldEvent | WireFragmentEnvelopePlanShardCountFieldEvent | WireFragmentEnvelopePlanShardSizeFieldEvent | WireFragmentEnvelopeOriginalSizeFieldEvent | WireFragmentEnvelopeFragmentSizeFieldEvent | WireFragmentEnvelopeDataFieldEvent | WireFragmentEnvelopeManifestFieldEvent | WireFragmentEnvelopeManifestSignatureFieldEvent> {
    return streamMessage(buf, WireFragmentEnvelope.codec(), opts)
  }
}

export interface WireReplicateAck {
  accepted: boolean
  heldIndices: number[]
  errorCode: string
  reason: string
}

export namespace WireReplicateAck {
  let _codec: Codec<WireReplicateAck>

  export const codec = (): Codec<WireReplicateAck> => {
    if (_codec == null) {
      _codec = message<WireReplicateAck>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.accepted != null && obj.accepted !== false)) {
          w.uint32(8)
          w.bool(obj.accepted)
        }

        if (obj.heldIndices != null && obj.heldIndices.length > 0) {
          for (const value of obj.heldIndices) {
            w.uint32(16)
            w.int32(value)
          }
        }

        if ((obj.errorCode != null && obj.errorCode !== '')) {
          w.uint32(26)
          w.string(obj.errorCode)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(34)
          w.string(obj.reason)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          accepted: false,
          heldIndices: [],
          errorCode: '',
          reason: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.accepted = reader.bool()
              break
            }
            case 2: {
              if (opts.limits?.heldIndices != null && obj.heldIndices.length === opts.limits.heldIndices) {
                throw new MaxLengthError('Decode error - repeated field "heldIndices" had too many elements')
              }

              obj.heldIndices.push(reader.int32())
              break
            }
            case 3: {
              obj.errorCode = reader.string()
              break
            }
            case 4: {
              obj.reason = reader.string()
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
          heldIndices: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.accepted`,
                value: reader.bool()
              }
              break
            }
            case 2: {
              if (opts.limits?.heldIndices != null && obj.heldIndices === opts.limits.heldIndices) {
                throw new MaxLengthError('Streaming decode error - repeated field "heldIndices" had too many elements')
              }

              yield {
                field: `${prefix}.heldIndices[]`,
                index: obj.heldIndices,
                value: reader.int32()
              }

              obj.heldIndices++

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
                field: `${prefix}.reason`,
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

  export interface WireReplicateAckAcceptedFieldEvent {
    field: '$.accepted'
    value: boolean
  }

  export interface WireReplicateAckHeldIndicesFieldEvent {
    field: '$.heldIndices[]'
    index: number
    value: number
  }

  export interface WireReplicateAckErrorCodeFieldEvent {
    field: '$.errorCode'
    value: string
  }

  export interface WireReplicateAckReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export function encode (obj: Partial<WireReplicateAck>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WireReplicateAck.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireReplicateAck>): WireReplicateAck {
    return decodeMessage(buf, WireReplicateAck.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireReplicateAck>): Generator<WireReplicateAckAcceptedFieldEvent | WireReplicateAckHeldIndicesFieldEvent | WireReplicateAckErrorCodeFieldEvent | WireReplicateAckReasonFieldEvent> {
    return streamMessage(buf, WireReplicateAck.codec(), opts)
  }
}
