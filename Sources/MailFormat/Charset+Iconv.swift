import Glibc

/// Thin wrapper over glibc iconv for the charsets Swift's standard library cannot decode (CJK, UTF-7, legacy
/// single-byte sets); invalid input is replaced with U+FFFD and counted instead of failing.
enum Iconv {
    /// Decodes `bytes` from the iconv charset `name` to a String; nil when iconv does not know the charset.
    static func decode(_ bytes: ArraySlice<UInt8>, from name: String) -> (String, errors: Int)? {
        let cd = iconv_open("UTF-8", name)
        if Int(bitPattern: cd) == -1 { return nil }
        defer { iconv_close(cd) }
        var errors = 0
        var output = [UInt8](repeating: 0, count: bytes.count * 3 + 16)
        var produced = 0
        var input = Array(bytes)
        input.withUnsafeMutableBufferPointer { inBuf in
            guard let inBase = inBuf.baseAddress else { return }
            var inPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBase).assumingMemoryBound(
                to: CChar.self)
            var inLeft = inBuf.count
            while true {
                if output.count - produced < 16 {
                    output.append(contentsOf: [UInt8](repeating: 0, count: output.count))
                }
                let before = produced
                var outLeft = output.count - produced
                let result: Int = output.withUnsafeMutableBufferPointer { outBuf in
                    var outPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuf.baseAddress! + produced)
                        .assumingMemoryBound(to: CChar.self)
                    let r =
                        inLeft > 0
                        ? iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft) : iconv(cd, nil, nil, &outPtr, &outLeft)
                    return r
                }
                produced = output.count - outLeft
                if result != -1 {
                    if inLeft == 0 {
                        // flush shift state
                        var flushLeft = output.count - produced
                        if flushLeft > 8 {
                            output.withUnsafeMutableBufferPointer { outBuf in
                                var outPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(
                                    outBuf.baseAddress! + produced
                                ).assumingMemoryBound(to: CChar.self)
                                _ = iconv(cd, nil, nil, &outPtr, &flushLeft)
                            }
                            produced = output.count - flushLeft
                        }
                        break
                    }
                    continue
                }
                let err = errno
                if err == E2BIG {
                    if produced == before { output.append(contentsOf: [UInt8](repeating: 0, count: output.count)) }
                    continue
                }
                // EILSEQ or EINVAL: replace one input byte with U+FFFD and go on.
                errors += 1
                if output.count - produced < 3 { output.append(contentsOf: [UInt8](repeating: 0, count: 64)) }
                output[produced] = 0xEF
                output[produced + 1] = 0xBF
                output[produced + 2] = 0xBD
                produced += 3
                if inLeft == 0 { break }
                inPtr = inPtr.map { $0 + 1 }
                inLeft -= 1
                if inLeft == 0 { break }
            }
        }
        return (String(decoding: output[0..<produced], as: UTF8.self), errors)
    }
}
