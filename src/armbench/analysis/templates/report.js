// Sortable tables: click a header to sort its column ascending, then descending. Cells carry a
// data-sort key (a number for numeric columns, "" when the value is missing); missing values
// stay last in both directions, numbers compare as numbers, text naturally ("t2" < "t10").
(function () {
  "use strict";
  function isNumber(s) { return s !== "" && !isNaN(Number(s)); }
  function keyOf(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    var key = cell.getAttribute("data-sort");
    return key === null ? cell.textContent.trim() : key;
  }
  function compare(a, b) {
    if (isNumber(a) && isNumber(b)) return Number(a) - Number(b);
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }
  function sortBy(table, th) {
    var index = th.cellIndex;
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var headers = th.parentNode.cells;
    for (var i = 0; i < headers.length; i++) headers[i].removeAttribute("aria-sort");
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, position) {
      return { row: row, key: keyOf(row, index), position: position };
    });
    rows.sort(function (x, y) {
      if (x.key === "" || y.key === "") {
        if (x.key === y.key) return x.position - y.position;
        return x.key === "" ? 1 : -1;
      }
      var order = compare(x.key, y.key);
      if (order === 0) return x.position - y.position;
      return ascending ? order : -order;
    });
    rows.forEach(function (item) { body.appendChild(item.row); });
  }
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    if (!table.tHead || !table.tBodies.length) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.addEventListener("click", function () { sortBy(table, th); });
    });
  });
})();
