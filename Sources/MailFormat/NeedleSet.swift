/// Many short byte strings searched for in one pass over a text: at each position only the needles that begin with
/// that byte are compared. The bounce and out-of-office checks run on every incoming mail with dozens of phrases
/// each; searching for each phrase on its own read the subject once per phrase.
struct NeedleSet: Sendable {
    private let needles: [[UInt8]]
    /// Indexes into `needles` by first byte.
    private let byFirstByte: [[Int]]

    init(_ phrases: [String]) {
        needles = phrases.map { Array($0.utf8) }.filter { !$0.isEmpty }
        var buckets = [[Int]](repeating: [], count: 256)
        for (index, needle) in needles.enumerated() { buckets[Int(needle[0])].append(index) }
        byFirstByte = buckets
    }

    /// Whether any needle occurs in `hay`.
    func occurs(in hay: [UInt8]) -> Bool {
        firstMatch(in: hay) { _, _ in true }
    }

    /// Whether some occurrence of a needle (its start in `hay` and its length) is one `accept` takes.
    func firstMatch(in hay: [UInt8], where accept: (_ start: Int, _ length: Int) -> Bool) -> Bool {
        hay.withUnsafeBufferPointer { hay in
            for start in hay.indices {
                for index in byFirstByte[Int(hay[start])] {
                    let needle = needles[index]
                    guard start + needle.count <= hay.count else { continue }
                    var offset = 1
                    while offset < needle.count && hay[start + offset] == needle[offset] { offset += 1 }
                    if offset == needle.count && accept(start, needle.count) { return true }
                }
            }
            return false
        }
    }
}
