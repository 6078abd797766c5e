import MailFormat

/// Parses a string literal as a message; `\n` in the literal is kept, so tests choose their line ends.
func parse(_ s: String, options: ParseOptions = .init()) -> MailMessage {
    MailParser.parse(Array(s.utf8), options: options)
}

/// Joins lines with CRLF.
func crlf(_ lines: [String]) -> String {
    lines.joined(separator: "\r\n")
}
