#
# tfo: TCP Fast Open for Boost.Asio
# Distributed under the Boost Software License, Version 1.0 (see LICENSE).
#
# N distinct destinations, each visited once per pass (round robin): time and
# system calls per connection against N, for tfo (default path memory), tfo
# with the path memory off, and plain Asio. Solid: the steady state (time:
# median of passes 2 onwards; system calls: the last pass); dashed: the first
# pass (first contact). bench/run.sh calls it as
#   gnuplot -e "data='...'; output='...'; machine='...'" bench/destinations.gp
# with `data` holding: n, then for tfo, tfo-nomemory and asio in turn:
# steady_us pass1_us last_syscalls pass1_syscalls (per connection; NaN: not measured).

set terminal pngcairo size 1280,640 font "sans,11"
set output output
set multiplot layout 1,2 title "Sequential request/response connections to N distinct destinations (127.1.x.y, loopback, private namespace)\n{/*0.8 ".machine."}"

set logscale x
set xlabel "distinct destinations N"
set xrange [50:200000]
set format x "10^{%L}"
set grid
set key outside below center horizontal maxcols 3 box

set style line 1 lc rgb "#2ca02c" lw 2 pt 7 ps 1.3
set style line 2 lc rgb "#2ca02c" lw 2 pt 6 ps 1.3 dt 2
set style line 3 lc rgb "#ff7f0e" lw 2 pt 5 ps 1.3
set style line 4 lc rgb "#ff7f0e" lw 2 pt 4 ps 1.3 dt 2
set style line 5 lc rgb "#1f5fbf" lw 2 pt 9 ps 1.4
set style line 6 lc rgb "#1f5fbf" lw 2 pt 8 ps 1.4 dt 2
set style line 10 lc rgb "#808080" lw 1 dt 3

# The default bound (path_memory_options::max_destinations), beyond the largest N.
set arrow 1 from 131072, graph 0 to 131072, graph 1 nohead ls 10
set label 1 "131072: max\\_destinations" at 131072, graph 0.04 right offset -0.3,0 textcolor rgb "#606060"

set title "time per connection (solid: median of passes 2 on; dashed: 1st pass)"
set ylabel "wall time per connection (µs)"
set yrange [0:*]
plot \
    data using 1:2 with linespoints ls 1 title "tfo", \
    data using 1:6 with linespoints ls 3 title "tfo, path memory off", \
    data using 1:10 with linespoints ls 5 title "plain Asio", \
    data using 1:3 with linespoints ls 2 title "tfo, 1st pass", \
    data using 1:7 with linespoints ls 4 title "memory off, 1st pass", \
    data using 1:11 with linespoints ls 6 title "Asio, 1st pass"

set title "system calls per connection, client + server (solid: last pass; dashed: 1st)"
set ylabel "system calls per connection (strace -f)"
set yrange [0:*]
plot \
    data using 1:4 with linespoints ls 1 title "tfo", \
    data using 1:8 with linespoints ls 3 title "tfo, path memory off", \
    data using 1:12 with linespoints ls 5 title "plain Asio", \
    data using 1:5 with linespoints ls 2 title "tfo, 1st pass", \
    data using 1:9 with linespoints ls 4 title "memory off, 1st pass", \
    data using 1:13 with linespoints ls 6 title "Asio, 1st pass"

unset multiplot
