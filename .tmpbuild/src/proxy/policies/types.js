/** What a policy decided. */
export var Verdict;
(function (Verdict) {
    /** On to the next policy, then the backend. */
    Verdict[Verdict["Continue"] = 0] = "Continue";
    /** The policy answered the request itself. */
    Verdict[Verdict["Answered"] = 1] = "Answered";
    /** The policy will call `resume()` (or answer) later: an asynchronous check. */
    Verdict[Verdict["Pending"] = 2] = "Pending";
})(Verdict || (Verdict = {}));
//# sourceMappingURL=types.js.map