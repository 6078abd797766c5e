/// IMAP mailbox names travel in modified UTF-7 (RFC 3501 §5.1.3): `Entwürfe` is `Entw&APw-rfe`.
public enum ModifiedUTF7 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8)

    public static func encode(_ name: String) -> String {
        var output: [UInt8] = []
        var pending: [UInt16] = []

        func flush() {
            guard !pending.isEmpty else { return }
            var bytes: [UInt8] = []
            for unit in pending {
                bytes.append(UInt8(unit >> 8))
                bytes.append(UInt8(unit & 0xFF))
            }
            output.append(UInt8(ascii: "&"))
            var index = 0
            while index < bytes.count {
                let b0 = bytes[index]
                let b1 = index + 1 < bytes.count ? bytes[index + 1] : 0
                let b2 = index + 2 < bytes.count ? bytes[index + 2] : 0
                output.append(alphabet[Int(b0 >> 2)])
                output.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
                if index + 1 < bytes.count { output.append(alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)]) }
                if index + 2 < bytes.count { output.append(alphabet[Int(b2 & 0x3F)]) }
                index += 3
            }
            output.append(UInt8(ascii: "-"))
            pending.removeAll()
        }

        for scalar in name.unicodeScalars {
            if scalar.value >= 0x20 && scalar.value <= 0x7E {
                flush()
                output.append(UInt8(scalar.value))
                if scalar == "&" { output.append(UInt8(ascii: "-")) }
            } else {
                pending.append(contentsOf: String(scalar).utf16)
            }
        }
        flush()
        return String(decoding: output, as: UTF8.self)
    }
}
