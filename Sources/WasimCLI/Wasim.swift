import ArgumentParser

/// The `wasim` command: a mock of Meta's WhatsApp SIP endpoint and a scenario runner.
@main
struct Wasim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wasim",
        abstract: "Test SIP infrastructure against WhatsApp Business Calling: a faithful mock of wa.meta.vc and a scenario runner.",
        subcommands: [ScenarioCommand.self, CapacityCommand.self, SuiteCommand.self, ReportCommand.self, MergeCommand.self, MockCommand.self, CertsCommand.self]
    )
}
