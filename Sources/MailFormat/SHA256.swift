/// A small SHA-256 (FIPS 180-4): Foundation on Linux has no CryptoKit, and attachments are stored by content hash.
public enum SHA256 {
    private static let k: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    /// The 32-byte digest of `data`.
    public static func digest(_ data: [UInt8]) -> [UInt8] {
        data.withUnsafeBufferPointer { finish(State(), $0, after: 0).bytes }
    }

    /// HMAC-SHA256 (RFC 2104) under one key, with the key's two padded blocks hashed once: a sync signs a few ids per
    /// mail under the same instance secret. A MAC of a short message then costs three compressions and no buffer
    /// but its result.
    public struct HMACKey: Sendable {
        private let inner: State
        private let outer: State

        public init(_ key: [UInt8]) {
            var block = key.count > 64 ? SHA256.digest(key) : key
            block += [UInt8](repeating: 0, count: 64 - block.count)
            var inner = State()
            var outer = State()
            block.map { $0 ^ 0x36 }.withUnsafeBufferPointer { inner.compress($0) }
            block.map { $0 ^ 0x5c }.withUnsafeBufferPointer { outer.compress($0) }
            self.inner = inner
            self.outer = outer
        }

        /// The 32-byte MAC of `message`.
        public func mac(_ message: [UInt8]) -> [UInt8] {
            let innerState = message.withUnsafeBufferPointer { SHA256.finish(inner, $0, after: 64) }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { digest in
                innerState.write(to: digest)
                return SHA256.finish(outer, UnsafeBufferPointer(digest), after: 64).bytes
            }
        }
    }

    /// Hashes `data` on from `state`, which has already taken `after` bytes (whole blocks), and pads.
    private static func finish(_ state: State, _ data: UnsafeBufferPointer<UInt8>, after: Int) -> State {
        var state = state
        let fullBlocks = data.count / 64
        for block in 0..<fullBlocks {
            state.compress(UnsafeBufferPointer(rebasing: data[(block * 64)..<(block * 64 + 64)]))
        }
        // Padding: the tail, 0x80, zeros, 64-bit big-endian bit length; one block, or two when the tail is long.
        let rest = data.count - fullBlocks * 64
        let blocks = rest < 56 ? 1 : 2
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { tail in
            for index in 0..<rest { tail[index] = data[fullBlocks * 64 + index] }
            tail[rest] = 0x80
            for index in (rest + 1)..<(blocks * 64 - 8) { tail[index] = 0 }
            let bitLength = UInt64(after + data.count) &* 8
            for index in 0..<8 {
                tail[blocks * 64 - 1 - index] = UInt8(truncatingIfNeeded: bitLength >> (UInt64(index) * 8))
            }
            let padded = UnsafeBufferPointer(tail)
            for block in 0..<blocks {
                state.compress(UnsafeBufferPointer(rebasing: padded[(block * 64)..<(block * 64 + 64)]))
            }
        }
        return state
    }

    /// Lowercase hex of the digest of `data`.
    public static func hex(_ data: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in digest(data) {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private struct State: Sendable {
        var h0: UInt32 = 0x6a09_e667
        var h1: UInt32 = 0xbb67_ae85
        var h2: UInt32 = 0x3c6e_f372
        var h3: UInt32 = 0xa54f_f53a
        var h4: UInt32 = 0x510e_527f
        var h5: UInt32 = 0x9b05_688c
        var h6: UInt32 = 0x1f83_d9ab
        var h7: UInt32 = 0x5be0_cd19
        mutating func compress(_ m: UnsafeBufferPointer<UInt8>) {
            var a = h0
            var b = h1
            var c = h2
            var d = h3
            var e = h4
            var f = h5
            var g = h6
            var h = h7
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                SHA256.k.withUnsafeBufferPointer { k in
                    for t in 0..<16 {
                        let o = t * 4
                        w[t] = UInt32(m[o]) << 24 | UInt32(m[o + 1]) << 16 | UInt32(m[o + 2]) << 8 | UInt32(m[o + 3])
                    }
                    for t in 16..<64 {
                        let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
                        let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
                        w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
                    }
                    for t in 0..<64 {
                        let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                        let ch = (e & f) ^ (~e & g)
                        let t1 = h &+ s1 &+ ch &+ k[t] &+ w[t]
                        let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                        let maj = (a & b) ^ (a & c) ^ (b & c)
                        let t2 = s0 &+ maj
                        h = g
                        g = f
                        f = e
                        e = d &+ t1
                        d = c
                        c = b
                        b = a
                        a = t1 &+ t2
                    }
                }
            }
            h0 = h0 &+ a
            h1 = h1 &+ b
            h2 = h2 &+ c
            h3 = h3 &+ d
            h4 = h4 &+ e
            h5 = h5 &+ f
            h6 = h6 &+ g
            h7 = h7 &+ h
        }

        /// The digest: the eight words big-endian.
        func write(to out: UnsafeMutableBufferPointer<UInt8>) {
            func put(_ word: UInt32, at index: Int) {
                out[index * 4] = UInt8(truncatingIfNeeded: word >> 24)
                out[index * 4 + 1] = UInt8(truncatingIfNeeded: word >> 16)
                out[index * 4 + 2] = UInt8(truncatingIfNeeded: word >> 8)
                out[index * 4 + 3] = UInt8(truncatingIfNeeded: word)
            }
            put(h0, at: 0)
            put(h1, at: 1)
            put(h2, at: 2)
            put(h3, at: 3)
            put(h4, at: 4)
            put(h5, at: 5)
            put(h6, at: 6)
            put(h7, at: 7)
        }

        var bytes: [UInt8] {
            [UInt8](unsafeUninitializedCapacity: 32) { buffer, count in
                write(to: buffer)
                count = 32
            }
        }
    }

    @inline(__always)
    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
}
