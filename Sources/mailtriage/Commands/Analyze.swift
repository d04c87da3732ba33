import ArgumentParser
import Foundation
import TriageCore
import TriageDaemon
import TriageFiles
#if canImport(Glibc)
import Glibc
#endif

struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "How much of an archive of mail could be answered or drafted: volumes, handling, entries used, knowledge gaps, hours saved.",
        discussion: """
            mailtriage analyze support-2026.mbox                 an mbox file (read in pieces, any size)
            mailtriage analyze ~/Maildir/.Support exported-eml/   Maildir folders and folders of message files
            mailtriage analyze --html report.html archive.mbox   also write a page with charts (no scripts, no network)
            Every message is parsed and decided with the current configuration (rules, thresholds, knowledge base,
            model, service levels), as the daemon would decide it when it arrived (its Date), in the archive's
            order: a reply to a message earlier in the archive from its customer joins that ticket (a follow-up,
            counted apart), and the loop guard's per-sender limit counts the automatic mails before it (the last
            100,000 Message-IDs and addresses are remembered). Nothing is stored or sent. A missing Return-Path is not held against a message (exports drop it; a mailbox has it). Knowledge gaps are the most common questions from people without an entry that answers them
            well, grouped by their words. A progress line goes to a terminal's standard error.
            """)

    @OptionGroup var options: ClassifierOptions
    @Argument(help: ArgumentHelp("mbox files, Maildir folders, folders of message files.", valueName: "path")) var paths: [String]
    @Flag(help: "Print the report as JSON.") var json = false
    @Flag(help: "Print the report as one CSV table (section,name,messages,automatic,...).") var csv = false
    @Option(help: ArgumentHelp("Also write the report as a web page to this file.", valueName: "file")) var html: String?
    @Option(help: "Agent minutes a ticket takes, for the hours saved.") var minutesPerTicket: Double = 8
    @Option(help: "The part of a ticket's time an approved draft saves (0 to 1).") var draftShare: Double = 0.5
    @Option(help: "Threads that parse and decide (default: the number of cores).") var workers: Int?
    @Option(help: "Knowledge gaps to list.") var gaps = 15
    @Flag(help: "No progress line, even on a terminal.") var quiet = false

    func validate() throws {
        if json && csv { throw ValidationError("choose one of --json and --csv") }
        if !(0...1).contains(draftShare) { throw ValidationError("--draft-share must be between 0 and 1") }
        if minutesPerTicket < 0 { throw ValidationError("--minutes-per-ticket must not be negative") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
    }

    func run() throws {
        let cfg = try options.loadedConfig()
        let snapshot = try options.fullSnapshot(cfg).forArchive()
        let inputs: ArchiveInputs
        do { inputs = try ArchiveReader.inputs(paths) } catch {
            printErr("mailtriage: \(error)")
            throw ExitCode(1)
        }
        guard !inputs.files.isEmpty else {
            printErr("mailtriage: no mail found under \(paths.joined(separator: " ")) (\(inputs.skipped.count) other files)")
            throw ExitCode(1)
        }
        var opts = ArchiveAnalyzer.Options(workers: workers ?? ProcessInfo.processInfo.activeProcessorCount,
                                           mailbox: options.mailboxName(cfg), maxMessageBytes: cfg?.maxMessageBytes ?? TriageConfig().maxMessageBytes)
        opts.sampleSize = 20_000
        let bar = ProgressLine(enabled: !quiet && isatty(STDERR_FILENO) == 1)
        let result = ArchiveAnalyzer.run(inputs, snapshot: snapshot, options: opts) { bar.update($0) }
        bar.finish()
        let report = AnalysisReport(result.analysis, files: inputs.files.count, skippedFiles: inputs.skipped, unreadable: result.unreadable,
                                    seconds: result.seconds, minutesPerTicket: minutesPerTicket, draftShare: draftShare, gaps: gaps)
        if let html {
            do { try AnalysisRendering.html(report).write(toFile: html, atomically: true, encoding: .utf8) } catch {
                printErr("mailtriage: cannot write \(html): \(error.localizedDescription)")
                throw ExitCode(1)
            }
        }
        if json {
            print(try jsonString(report, pretty: true))
        } else if csv {
            FileHandle.standardOutput.write(Data(AnalysisRendering.csv(report).utf8))
        } else {
            printText(report)
            if let html { print("\nReport page: \(html)") }
        }
    }

    func printText(_ r: AnalysisReport) {
        func pct(_ n: Int) -> String { String(format: "%5.1f%%", r.percent(n)) }
        let rate = r.seconds > 0 ? Double(r.messages) / r.seconds : 0
        print("\(English.count(r.messages, "message")) in \(English.count(r.files, "file")) (\(String(format: "%.1f", Double(r.bytes) / 1_048_576)) MiB), "
              + "\(String(format: "%.1f", r.seconds)) s, \(Int(rate)) messages/s")
        if !r.skippedFiles.isEmpty {
            print("\(English.count(r.skippedFiles.count, "file")) skipped: not mail (\(r.skippedFiles.prefix(3).joined(separator: ", "))\(r.skippedFiles.count > 3 ? ", ..." : ""))")
        }
        print("\(English.count(r.tickets, "new ticket")); \(English.count(r.followUps + r.automatedFollowUps, "follow-up")) to earlier mail of the archive "
              + "(\(r.followUps) from the customer, \(English.count(r.automatedFollowUps, "automatic reply", "automatic replies")) kept for information)")
        print("\nHandling (of the new tickets)")
        let o = r.outcomes
        print("  automatic            \(pct(o.automatic))  \(o.automatic)")
        print("  semi-automatic       \(pct(o.semiAutomatic))  \(o.semiAutomatic)")
        if o.shadow > 0 { print("  shadow               \(pct(o.shadow))  \(o.shadow)") }
        print("  manual               \(pct(o.manual))  \(o.manual)")
        print("  refused (loop guard) \(pct(o.refused))  \(o.refused)" + (r.refusals.isEmpty ? "" : "   (" + r.refusals.prefix(4).map { "\($0.name) \($0.count)" }.joined(separator: ", ") + ")"))
        print("  could not be read    \(pct(o.failed))  \(o.failed)   (read with repairs: \(r.warned))")
        func section(_ title: String, _ rows: [AnalysisReport.Row], limit: Int = 20) {
            print("\n\(title)" + String(repeating: " ", count: max(1, 22 - title.count)) + "  total   auto  draft manual refused")
            for x in rows.prefix(limit) {
                let c = x.counts
                print("  " + Terminal.pad(Terminal.clip(x.name, 20), 20) + String(format: " %7d %6d %6d %6d %7d", c.total, c.automatic + c.shadow, c.semiAutomatic, c.manual, c.refused + c.failed))
            }
            if rows.count > limit { print("  ... \(rows.count - limit) more") }
        }
        section("Categories", r.categories)
        section("Languages", r.languages)
        section("Target groups", r.groups)
        let dated = r.months.filter { !$0.name.hasPrefix("(") }
        section(dated.count > 24 ? "Months (last 24)" : "Months", Array(dated.suffix(24)) + r.months.filter { $0.name.hasPrefix("(") })
        if !r.entries.isEmpty {
            print("\nEntries used most          answers drafts")
            for e in r.entries { print("  " + Terminal.pad(Terminal.clip(e.entry, 24), 24) + String(format: " %7d %6d", e.answers, e.drafts)) }
        }
        print("\nKnowledge gaps: \(English.count(r.gapMessages, "question")) from people without a good entry")
        if r.gaps.isEmpty { print("  (no recurring question)") }
        for g in r.gaps {
            print("  ~\(g.messages)  \(g.words.joined(separator: ", "))  [\(g.category), \(g.language)]")
            for ex in g.examples { print("        \"\(Terminal.clip(ex.isEmpty ? "(no subject)" : ex, 70))\"") }
        }
        let s = r.savings
        print("\nAgent time saved: \(String(format: "%.1f", s.hoursPerMonth)) hours a month (\(String(format: "%.1f", s.hoursTotal)) h over \(s.months) month\(s.months == 1 ? "" : "s"); "
              + "\(String(format: "%g", s.minutesPerTicket)) min a ticket, a draft saves \(Int(s.draftShare * 100))%)")
        if !r.problems.isEmpty || !r.unreadable.isEmpty {
            print("\nProblems (first \(r.problems.count))")
            for p in r.problems.prefix(10) { print("  \(p.source): \(p.problem)") }
            for u in r.unreadable { print("  \(u)") }
        }
    }
}

/// The progress line on a terminal's standard error: messages, rate, share of the input read and the time
/// left; redrawn at most five times a second; nothing when standard error is not a terminal.
final class ProgressLine {
    let enabled: Bool
    private var last = 0.0
    private var drawn = false

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ p: ArchiveAnalyzer.Progress) {
        guard enabled, p.seconds - last >= 0.2 || p.bytesRead >= p.totalBytes else { return }
        last = p.seconds
        let share = p.totalBytes > 0 ? min(1, Double(p.bytesRead) / Double(p.totalBytes)) : 0
        let rate = p.seconds > 0 ? Double(p.messages) / p.seconds : 0
        let eta = share > 0.001 ? p.seconds * (1 - share) / share : 0
        let width = 24
        let full = Int(share * Double(width))
        let bar = String(repeating: "#", count: full) + String(repeating: "-", count: width - full)
        let line = String(format: "\r[%@] %3d%%  %d messages  %.0f/s  ETA %d:%02d ", bar, Int(share * 100), p.messages, rate, Int(eta) / 60, Int(eta) % 60)
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

extension ClassifierOptions {
    /// The decision's configuration with the configured service levels and message templates as well.
    func fullSnapshot(_ cfg: TriageConfig?) throws -> TriageSnapshot {
        var levels: ServiceLevels?
        if let path = cfg?.serviceLevelsFile {
            do {
                let (l, warnings) = try ServiceLevelsLoader.load(path: path, categories: try settings(cfg).categories)
                for w in warnings { printErr(w.description) }
                levels = l
            } catch let e as ConfigError {
                for d in e.diagnostics { printErr(d.description) }
                throw ExitCode(1)
            }
        }
        return try snapshot(cfg, serviceLevels: levels, templates: SnapshotLoader.templates(in: knowledgeBasePath(cfg))).0
    }
}
