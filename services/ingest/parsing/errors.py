class NoticeParseError(ValueError):
    """The one error the parser raises for input it cannot read; `message` is Chinese first."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
