public enum TriageTestingPlaceholder {}
