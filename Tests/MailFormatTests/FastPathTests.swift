import Testing

@testable import MailFormat

/// The benchmark-driven fast paths (bulk line-end copy, four-at-a-time base64, word-wise ASCII test) must give
/// exactly what the simple byte loops gave.
@Suite struct FastPathTests {
    static func referenceLineEnds(_ u: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < u.count {
            if u[i] == 13 {
                out.append(10)
                if i + 1 < u.count && u[i + 1] == 10 { i += 1 }
            } else {
                out.append(u[i])
            }
            i += 1
        }
        return out
    }

    @Test func lineEnds() {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [13, 10, 65, 66, 32, 13, 0xC3]
        for length in [0, 1, 2, 3, 7, 8, 9, 64, 1000] {
            for _ in 0..<50 {
                let u = (0..<length).map { _ in alphabet.randomElement(using: &rng)! }
                #expect(MIMEWalker.normalizeLineEnds(u) == Self.referenceLineEnds(u))
            }
        }
        #expect(MIMEWalker.normalizeLineEnds(Array("a\r\nb\rc\n\r".utf8)) == Array("a\nb\nc\n\n".utf8))
    }

    @Test func base64() {
        var rng = SystemRandomNumberGenerator()
        for length in [0, 1, 2, 3, 4, 5, 57, 58, 1000] {
            for _ in 0..<20 {
                let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let encoded = Base64.encode(data)
                #expect(Base64.decode(encoded) == data)
                // junk between characters (spaces, broken line ends) must not change the result
                var noisy: [UInt8] = []
                for (i, c) in encoded.enumerated() {
                    noisy.append(c)
                    if i % 5 == 3 { noisy.append(UInt8(ascii: " ")) }
                    if i % 13 == 0 { noisy.append(10) }
                }
                #expect(Base64.decode(noisy) == data)
            }
        }
        // concatenated padded chunks keep going after the padding
        #expect(Base64.decode(Array("YQ==Yg==".utf8)) == Array("ab".utf8))
    }

    @Test func asciiTest() {
        for length in 0..<20 {
            var u = [UInt8](repeating: 65, count: length)
            #expect(Charset.isASCII(u[...]))
            for i in 0..<length {
                u[i] = 0x80
                #expect(!Charset.isASCII(u[...]))
                u[i] = 65
            }
        }
    }
}
