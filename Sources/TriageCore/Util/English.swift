/// Wording of counts in reports.
public enum English {
    /// "file" for 1, else "files" (or `plural`).
    public static func noun(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
        n == 1 ? singular : plural ?? singular + "s"
    }

    /// "1 file", "2 files".
    public static func count(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(n) \(noun(n, singular, plural))"
    }
}
