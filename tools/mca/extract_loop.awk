# Prints the body of one innermost loop of a clang AArch64 .s file, for
# llvm-mca: the innermost loop (a label reached by a later backward branch,
# holding no other such loop) with the most vector FMAs, or with exactly
# WANT of them when WANT is set (e.g. 9 for a 3x3 depthwise interior).
# Directives and labels are dropped; comments too.
{ line[NR] = $0 }
/^[.A-Za-z_$][^ \t:]*:/ { lab = $0; sub(/:.*/, "", lab); at[lab] = NR }
END {
    n = 0
    for (i = 1; i <= NR; i++) {
        s = line[i]; sub(/\/\/.*/, "", s)
        if (s ~ /^[ \t]+(b\.[a-z]+|b|cbnz|cbz|tbnz|tbz)[ \t]/) {
            k = split(s, f, /[ \t,]+/); t = f[k]
            if ((t in at) && at[t] < i) { n++; lo[n] = at[t]; hi[n] = i }
        }
    }
    best = 0; bestf = -1
    for (j = 1; j <= n; j++) {
        inner = 1
        for (m = 1; m <= n; m++) if (m != j && lo[m] > lo[j] && hi[m] <= hi[j]) inner = 0
        if (!inner) continue
        c = 0
        for (i = lo[j]; i <= hi[j]; i++) if (line[i] ~ /^[ \t]+fml[as][ \t]+v[0-9]+\.4s/) c++
        if (WANT != "" && c != WANT + 0) continue
        if (c > bestf) { bestf = c; best = j }
    }
    if (!best) exit 1
    for (i = lo[best] + 1; i <= hi[best]; i++) {
        s = line[i]; sub(/\/\/.*/, "", s)
        if (s ~ /^[ \t]+[a-z]/ && s !~ /^[ \t]+\./) print s
    }
}
